"""Ratings change ranking: "Not helpful" demotes an article for the question and its paraphrases, capped."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge_base.feedback import CAP, STEP, RatingFeedback
from knowledge_base.models import KbRating
from knowledge_base.ratings import record_rating

pytestmark = pytest.mark.slow  # loads the sentence encoder

QUESTION = "how do I connect to the vpn from home"
PARAPHRASE = "how can I connect to the VPN when I am at home"


def _rate(db, user, helpful, *, question=QUESTION, article="network/vpn", days_old=0):
    with db.session() as s:
        row = record_rating(s, question=question, article_id=article, helpful=helpful, user_key=user)
        if days_old:
            s.flush()
            row.created_at = row.created_at - dt.timedelta(days=days_old)


def _vpn(kb, text):
    hit = next(h for h in kb.search(text, groups={"*"}).hits if h.info.id == "network/vpn")
    return hit.score, hit.feedback


def test_not_helpful_demotes_for_paraphrases_one_person_alone_moves_nothing_and_the_total_is_capped(kb, migrated_db):
    before, _ = _vpn(kb, PARAPHRASE)
    unrelated_before, _ = _vpn(kb, "printer toner is empty")
    for _ in range(10):  # one person pressing "Not helpful" ten times: the article stays where it was
        _rate(migrated_db, "slack:U1", False)
    assert _vpn(kb, PARAPHRASE) == (pytest.approx(before, abs=1e-6), 0.0)
    _rate(migrated_db, "slack:U2", False)  # a second person agrees: two votes, each at most one step
    after, moved = _vpn(kb, PARAPHRASE)
    assert -2 * STEP <= moved < -2 * STEP * 0.8 and after == pytest.approx(before + moved, abs=1e-6)
    assert _vpn(kb, "printer toner is empty") == (pytest.approx(unrelated_before, abs=1e-6), 0.0)
    for n in range(3, 12):  # many people: capped
        _rate(migrated_db, f"slack:U{n}", False)
    assert _vpn(kb, PARAPHRASE)[1] == pytest.approx(-CAP)


def test_helpful_promotes_and_old_votes_fade(kb, migrated_db):
    _rate(migrated_db, "slack:U9", True)
    assert _vpn(kb, QUESTION)[1] == 0.0  # one person cannot push an article either
    for n in range(3):
        _rate(migrated_db, f"slack:U{n}", True)
    _, fresh = _vpn(kb, QUESTION)
    assert fresh > 0
    with migrated_db.session() as s:  # the same votes, ninety days older
        for row in s.query(KbRating):
            row.created_at = row.created_at - dt.timedelta(days=90)
    kb.feedback = RatingFeedback(kb.encoder_provider)  # a restarted process reads them again
    _, faded = _vpn(kb, QUESTION)
    assert 0 < faded < fresh / 4
