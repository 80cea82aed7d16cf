"""Leave-one-corpus-out: each corpus is scored at the threshold picked on the others, never on itself."""

from __future__ import annotations

from knowledge_base.evaluate import EvalReport, QuestionResult, leave_one_corpus_out, pick_threshold


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
