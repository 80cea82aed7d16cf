"""Gap mining: declined and unhelpful questions grouped by topic, largest first, with the nearest article."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge_base.gaps import AnsweredQuestion, chart, find_gaps
from knowledge_base.ratings import record_rating

pytestmark = pytest.mark.slow  # loads the sentence encoder


def _declined(asked, text, when):
    asked.append(AnsweredQuestion(question=text, outcome="declined", at=when))


def test_questions_are_grouped_by_topic(kb, migrated_db, encoder, tmp_path):
    now = dt.datetime(2026, 11, 25, 12, 0)
    asked: list[AnsweredQuestion] = []
    for q in ["how do I book a parking space", "where can I park my car at the office",
              "is there parking for employees"]:
        _declined(asked, q, now - dt.timedelta(days=3 - len(asked)))
    for q in ["how do I order business cards", "can I get new business cards printed"]:
        _declined(asked, q, now)
    asked.append(AnsweredQuestion(question="how do I print", outcome="answered", at=now,
                                  top_article_id="help/printing", score=0.8))
    with migrated_db.session() as s:
        record_rating(s, question="the printer on floor 3 is out of toner", article_id="help/printing",
                      helpful=False, user_key="slack:U9")
    with migrated_db.session() as s:
        gaps = find_gaps(s, asked, lambda: encoder, kb=kb)
    sizes = [g.count for g in gaps]
    assert sizes == [3, 2, 1]
    assert all("park" in q.text for q in gaps[0].questions)
    assert all("business cards" in q.text for q in gaps[1].questions)
    d = gaps[2].to_dict()
    assert d["unhelpful"] == 1 and d["nearest_article"] == "help/printing"
    assert gaps[0].to_dict()["examples"][0] == "is there parking for employees"  # newest first
    png = chart(gaps, tmp_path / "gaps.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
