"""Which section an answer quotes: a "how do I" question gets the article's numbered steps when they score
nearly as well as the section that matched its words best (knowledge_base.compose.section_to_quote)."""

from __future__ import annotations

import pytest

from knowledge_base.compose import STEPS_MARGIN, asks_how, has_steps, section_to_quote
from knowledge_base.index import ArticleHit, ArticleInfo, ChunkHit

STEPS = "1. Click the globe icon.\n2. Enter vpn.example.com.\n3. Approve the sign-in."
PROSE = "You cannot connect from a personal laptop or home PC; use the web apps instead."


def _hit(chunks: list[tuple[ChunkHit, float]]) -> ArticleHit:
    ranked = sorted(chunks, key=lambda pair: -pair[1])
    best = ranked[0][0]
    return ArticleHit(ArticleInfo("network/vpn", "Connecting to the VPN", "network/vpn.md"), ranked[0][1],
                      best.dense, best.lexical, best, [c for c, _ in ranked[:3]])


def _chunk(row: int, section: str | None, text: str, *, card: bool = False) -> ChunkHit:
    return ChunkHit(row, section, text, 0.6, 0.5, card)


@pytest.mark.parametrize("question", ["how do I connect to the vpn from home", "How to connect to the VPN?",
                                      "first day, how do I log into slack", "hi, how can i get on the vpn"])
def test_how_questions_are_recognised(question: str) -> None:
    assert asks_how(question)


@pytest.mark.parametrize("question", ["how long do we keep backups", "how many vacation days do i get",
                                      "can I use the vpn on my home pc", "vpn connects but nothing loads",
                                      "the how-to page for the vpn is gone, do you know why"])
def test_other_questions_are_not(question: str) -> None:
    assert not asks_how(question)


def test_a_numbered_list_of_two_steps_or_more_counts_as_steps() -> None:
    assert has_steps(STEPS) and has_steps("Intro:\n1) Open it\n2) Sign in")
    assert not has_steps(PROSE) and not has_steps("1. Only one step here.") and not has_steps("- a\n- b")


def test_a_how_question_gets_the_steps_when_they_score_nearly_as_well() -> None:
    card, personal, connect = (_chunk(0, None, "Connecting to the VPN", card=True),
                               _chunk(1, "Personal computers", PROSE), _chunk(2, "Connect", STEPS))
    scored = [(card, 0.83), (personal, 0.66), (connect, 0.66 - STEPS_MARGIN + 0.01)]
    hit = _hit(scored)
    assert section_to_quote(hit, "how do I connect to the vpn from home", scored).section == "Connect"
    # not a "how" question, or the steps too far below: the best-matching section stays
    assert section_to_quote(hit, "can I connect my home pc to the vpn", scored).section == "Personal computers"
    far = [(card, 0.83), (personal, 0.66), (connect, 0.66 - STEPS_MARGIN - 0.01)]
    assert section_to_quote(_hit(far), "how do I connect to the vpn from home", far).section == \
        "Personal computers"


def test_a_section_that_already_has_steps_is_kept() -> None:
    first = _chunk(1, "Install", "1. Open Self Service.\n2. Install GlobalProtect.")
    second = _chunk(2, "Connect", STEPS)
    scored = [(first, 0.7), (second, 0.69)]
    assert section_to_quote(_hit(scored), "how do I set up the vpn", scored).section == "Install"


def test_scores_from_another_state_of_the_index_leave_the_searchs_pick() -> None:
    """The article re-scored after a sync moved its rows: the chosen row is not among them, nothing is swapped."""
    personal, connect = _chunk(1, "Personal computers", PROSE), _chunk(2, "Connect", STEPS)
    hit = _hit([(personal, 0.66), (connect, 0.6)])
    moved = [(_chunk(7, "Personal computers", PROSE), 0.66), (_chunk(8, "Connect", STEPS), 0.6)]
    assert section_to_quote(hit, "how do I connect to the vpn from home", moved) is personal
