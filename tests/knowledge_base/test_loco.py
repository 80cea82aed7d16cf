"""Leave-one-corpus-out: each corpus is scored at the threshold picked on the others, never on itself."""

from __future__ import annotations

import json

import pytest

from bot.errors import DataError
from knowledge_base.evaluate import EvalReport, QuestionResult, leave_one_corpus_out, pick_threshold, run_corpora


def _report(answerable: list[float], unanswerable: list[float]) -> EvalReport:
    rows = [QuestionResult(f"a{i}", "answerable", ["p.md"], ["p.md"], c, True) for i, c in enumerate(answerable)]
    rows += [QuestionResult(f"u{i}", "unanswerable", [], ["p.md"], c, True) for i, c in enumerate(unanswerable)]
    return EvalReport(results=rows, threshold=0.5)


def test_threshold_is_picked_on_the_other_corpora():
    low = _report([0.45, 0.5, 0.55], [0.2, 0.25, 0.3])     # separates at ~0.31..0.45
    high = _report([0.75, 0.8, 0.85], [0.5, 0.55, 0.6])    # separates at ~0.61..0.75
    assert pick_threshold([low]) == 0.31 and pick_threshold([high]) == 0.61
    loco = leave_one_corpus_out({"low": low, "high": high})
    # "low" held out gets high's threshold: everything declined there — the figure says so honestly
    assert loco["held_out"]["low"]["threshold"] == 0.61
    assert loco["held_out"]["low"]["answered_share"] == 0.0 and loco["held_out"]["low"]["declined_share"] == 1.0
    assert loco["held_out"]["high"]["threshold"] == 0.31
    assert loco["held_out"]["high"]["declined_share"] == 0.0
    assert 0.31 <= loco["pooled_threshold"] <= 0.75


def test_every_corpus_is_also_scored_at_the_threshold_picked_on_all_of_them():
    low = _report([0.45, 0.5, 0.55], [0.2, 0.25, 0.3])
    high = _report([0.75, 0.8, 0.85], [0.5, 0.55, 0.6])
    loco = leave_one_corpus_out({"low": low, "high": high})
    t = loco["pooled_threshold"]
    for name, rep in (("low", low), ("high", high)):
        at = loco["at_pooled"][name]
        assert at["answered_share"] == rep.metrics(t)["answered_share"]
        assert at["declined_share"] == rep.metrics(t)["declined_share"]
        assert {"hit@1", "hit@5", "mrr"} <= set(at)


def test_licence_and_provenance_files_are_not_imported_as_pages(tmp_path):
    from knowledge_base.evaluate import page_folder

    pages = tmp_path / "pages"
    (pages / "people").mkdir(parents=True)
    for name in ("LICENSE", "LICENSE.md", "NOTICE.md", "people/time-off.md", "index.md", "notice-board.md"):
        (pages / name).write_text("# page\n")
    found = page_folder(pages, tmp_path / "scratch")
    kept = sorted(p.relative_to(found).as_posix() for p in found.rglob("*") if p.is_file())
    assert kept == ["index.md", "notice-board.md", "people/time-off.md"]
    assert (found / "people" / "time-off.md").read_text() == "# page\n"
    clean = tmp_path / "clean"
    (clean / "a.md").parent.mkdir()
    (clean / "a.md").write_text("# a\n")
    assert page_folder(clean, tmp_path / "scratch2") == clean  # nothing to skip: read in place


def test_other_questions_over_the_same_pages_are_a_corpus_of_their_own(tmp_path, encoder):
    folder = tmp_path / "handbook"
    (folder / "pages").mkdir(parents=True)
    (folder / "pages" / "vpn.md").write_text("# VPN\n\nConnect to the VPN with GlobalProtect before you work from "
                                             "home.\n")
    (folder / "pages" / "printing.md").write_text("# Printing\n\nPrint to the office printer by tapping your "
                                                  "badge on it.\n")
    (folder / "questions.dev.jsonl").write_text(json.dumps({"q": "how do i use the vpn",
                                                            "relevant": ["vpn.md"]}) + "\n")
    blind = tmp_path / "blind.jsonl"
    blind.write_text(json.dumps({"q": "printer wont print my document", "relevant": ["printing.md"]}) + "\n")
    out = run_corpora([folder, ("handbook-blind", folder / "pages", blind)], lambda: encoder)
    assert list(out["corpora"]) == ["handbook", "handbook-blind"]
    assert [q["top"][0] for q in out["corpora"]["handbook-blind"]["questions"]] == ["printing.md"]
    assert [q["top"][0] for q in out["corpora"]["handbook"]["questions"]] == ["vpn.md"]
    with pytest.raises(DataError, match="questions"):
        run_corpora([tmp_path / "blind.jsonl"], lambda: encoder)
