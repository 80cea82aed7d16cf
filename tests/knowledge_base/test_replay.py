"""A fast slice of the replay benchmark (bench/kb_replay.py): use, ratings over simulated weeks, curation, the cap."""

from __future__ import annotations

import datetime as dt
import random
import sys

import pytest
from sqlalchemy import func, select

from knowledge_base.feedback import CAP
from knowledge_base.gap_actions import CURATE, DISMISS, KbGapAction
from knowledge_base.models import KbCurated, KbRating
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from kb_paraphrase import paraphrases  # noqa: E402
from kb_replay import CachedEncoder, Replay, build_sets, scratch_kb  # noqa: E402

pytestmark = pytest.mark.slow  # the real encoder

QUESTIONS = [
    {"q": "how do I connect to the vpn from home", "relevant": ["network/vpn.md"]},
    {"q": "can I use my own computer on the vpn", "relevant": ["network/vpn.md"]},
    {"q": "where do I send a document to be printed", "relevant": ["help/printing.md"]},
    {"q": "my badge does not release the print job", "relevant": ["help/printing.md"]},
    {"q": "is there parking for employees", "relevant": []},
    {"q": "can I bring my dog to the office", "relevant": []},
]


def test_paraphrases_are_distinct_and_held_out_from_use():
    rng = random.Random(3)
    variants = paraphrases("how do I connect to the vpn from home", 6, rng)
    assert len(variants) == len(set(variants)) == 6
    assert "how do i connect to the vpn from home" not in [v.rstrip("?") for v in variants]
    use, held = build_sets(QUESTIONS, {"network/vpn.md": "network/vpn", "help/printing.md": "help/printing"},
                           per_question=6, held_out=3)
    assert {i.text for i in use}.isdisjoint(i.text for i in held)
    assert len(held) == 3 * len(QUESTIONS) and len(use) == 4 * len(QUESTIONS)
    assert {i.source for i in held} == {i.source for i in use}
    assert all(i.gold == {"network/vpn"} for i in held if i.source in (0, 1))


@pytest.fixture
def replay(tmp_path, articles, encoder):
    from bot.vector_cache import VectorFileCache

    cached = CachedEncoder(lambda: encoder, VectorFileCache())
    kb, db = scratch_kb(tmp_path / "replay", cached)
    kb.import_dir(articles)
    run = Replay(kb, db, cached, seed=5, start=dt.datetime(2026, 1, 1))
    yield run
    db.dispose()


def test_a_simulated_period_of_use_and_curation_helps_held_out_paraphrases_and_one_person_cannot_bury(replay):
    ids = {info.path: aid for aid, info in replay.kb.index.articles.items()}
    use, held = build_sets(QUESTIONS, ids, per_question=5, held_out=2, seed=2)
    before = replay.measure(held)
    replay.simulate(use, days=21, asks_per_day=6, review_every=7, topics=3, users=8)
    after = replay.measure(held)
    with replay.db.session() as s:
        days = s.execute(select(func.min(KbRating.created_at), func.max(KbRating.created_at))).one()
        actions = s.scalars(select(KbGapAction)).all()
        curated = s.scalars(select(KbCurated)).all()
    # ratings carry the simulated days (so they decay on the fake clock), by the fake users
    assert days[0] is not None and days[1] - days[0] >= dt.timedelta(days=7)
    # trainers dealt with the gaps: curated ones point at a right article, who/when kept
    assert actions and all(a.created_by == "trainer@example.com" for a in actions)
    for a in actions:
        if a.kind == CURATE:
            assert a.details["article_id"] in {"network/vpn", "help/printing"}
        else:
            assert a.kind == DISMISS
    assert all(c.created_by == "trainer@example.com" and c.undone_at is None for c in curated)
    # a paraphrase nobody asked during the period is now answered (curated from the gaps), none got worse
    assert after["answered_correctly"] > before["answered_correctly"] and after["hit@1"] >= before["hit@1"]
    assert after["curated"] > 0 and after["declined"] == before["declined"] == 1.0
    # the decay: ninety quiet days later the ratings have (nearly) faded, curated answers stay
    replay.now += dt.timedelta(days=90)
    later = replay.measure(held)
    assert later["curated"] == after["curated"]

    cap = replay.cap_check(use, held, presses=4, crowd=3)
    assert cap["held_out_first_before"] > 0
    assert cap["one_person"] == {"still_first": 1.0, "largest_demotion": 0.0}
    assert cap["3_more_people"]["largest_demotion"] == pytest.approx(-CAP)
