"""Try it: a trainer asks as an employee would and sees why; nothing is stored, opened or counted."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.console.conftest import NOBODY, STAFF, TRAINER, ConsoleStack

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def footprint(stack: ConsoleStack) -> dict[str, int]:
    """Rows a real turn or its side effects would add: analytics, transcript, state, tickets, ratings, outbox."""
    from bot.storage.models import AnalyticsEvent, ConversationState, Notification, TranscriptEntry
    from integrations.ticketing.models import Ticket, TicketOutbox
    from knowledge_base.models import KbRating

    with stack.db.session() as s:
        return {m.__tablename__: int(s.scalar(select(func.count()).select_from(m)) or 0)
                for m in (AnalyticsEvent, TranscriptEntry, ConversationState, Ticket, TicketOutbox, KbRating,
                          Notification)}


def ask(client: Any, question: str, audience: str = "everyone") -> Any:
    form = client.get("/console/tryit")
    assert form.status_code == 200
    token = CSRF.search(form.text).group(1)  # type: ignore[union-attr]
    return client.post("/console/tryit", data={"csrf_token": token, "question": question, "audience": audience})


def test_try_it_shows_intent_scores_threshold_and_reply_without_a_trace(console_stack: ConsoleStack, page: Any,
                                                                        login: Any, screenshot: Any) -> None:
    _ = console_stack.services.nlu  # the intent model (trained once for the stack)
    before = footprint(console_stack)
    login(page, TRAINER)
    page.goto(console_stack.url("/console/tryit"))
    page.get_by_label("Question").fill("How do I connect to the VPN from home?")
    page.get_by_label("Ask as").select_option("everyone")
    page.get_by_role("button", name="Ask").click()
    page.wait_for_selector("#ti-result")
    assert page.locator("#ti-intent").inner_text().startswith("Intent")
    assert "vpn" in page.locator("#ti-intent code").first.inner_text()
    assert page.locator("#ti-threshold").inner_text() == "0.44"
    first = page.locator("#ti-ranking tbody tr").first
    assert first.get_attribute("data-article") == "network/vpn"
    cells = first.locator("td.num").all_inner_texts()  # rank, lexical, dense, fused, ratings
    lexical, dense, fused = (float(c) for c in cells[1:4])
    ratings = float(cells[4])
    assert 0 < lexical <= 1 and 0 < dense <= 1
    # fused = the best passage's w*dense + (1-w)*lexical (knowledge_base.index.HybridIndex.search) plus the ratings'
    # move. The lexical and dense shown are the best over the article's passages, so without the ratings it lies
    # between the larger weighted term and the full combination of the two shown (equal to it when one passage is
    # best at both), inside 0..1. Scores are shown to 4 places; the ratings' move only to 2 (exactly 0 unrated)
    w = console_stack.services.kb.index.dense_weight
    tolerance = 0.0002 + (0.005 if before["kb_rating"] else 0.0)
    passage = fused - ratings
    assert -tolerance <= passage <= 1 + tolerance, (fused, ratings)
    assert max(w * dense, (1 - w) * lexical) - tolerance <= passage <= w * dense + (1 - w) * lexical + tolerance, \
        (lexical, dense, fused, ratings, w)
    # the fused score (ratings included) orders the table
    ranked = [float(row.locator("td.num").nth(3).inner_text()) for row in page.locator("#ti-ranking tbody tr").all()]
    assert len(ranked) > 1 and ranked == sorted(ranked, reverse=True)
    assert "answer" in page.locator("#ti-decision").inner_text()
    assert "Did this help?" in page.locator("#ti-reply").inner_text()
    screenshot(page, "tryit")
    assert footprint(console_stack) == before


def test_an_action_is_explained_not_run(console_stack: ConsoleStack) -> None:
    before = footprint(console_stack)
    client = console_stack.client(TRAINER)
    try:
        ticket = ask(client, "please open a ticket, my laptop screen is cracked")
        reset = ask(client, "reset my password please")
    finally:
        client.close()
    assert ticket.status_code == 200
    assert "explicit request for a ticket" in ticket.text and "Try it does not run actions" in ticket.text
    assert "account flow" in reset.text and "Try it does not run actions" in reset.text
    assert footprint(console_stack) == before  # no ticket, no outbox row, no turn recorded


def test_the_audience_decides_which_articles_can_answer(console_stack: ConsoleStack) -> None:
    question = "where are the break-glass admin account passwords kept?"
    client = console_stack.client(TRAINER)
    try:
        everyone = ask(client, question)
        staff = ask(client, question, "it-staff")
        bad = ask(client, question, "finance")
    finally:
        client.close()
    ranked = re.compile(r'<tr data-article="([^"]+)"')
    assert "it-staff/admin-accounts" not in ranked.findall(everyone.text)
    assert ranked.findall(staff.text)[0] == "it-staff/admin-accounts"
    assert bad.status_code == 400 and "&#39;audience&#39;" in bad.text


def test_the_decision_shown_is_the_bots_own_intent_agreement_included(console_stack: ConsoleStack) -> None:
    """Just below the threshold, the article answers because the confident intent is its own: Try it says so."""
    question = "am i allowed to install notepad++"
    client = console_stack.client(TRAINER)
    try:
        page = ask(client, question)
    finally:
        client.close()
    decision = re.search(r'<p id="ti-decision">Decision: <strong>([^<]+)</strong>', page.text)
    confidence = float(re.search(r'id="ti-kb-confidence">([0-9.]+)<', page.text).group(1))  # type: ignore[union-attr]
    threshold = float(re.search(r'id="ti-threshold">([0-9.]+)<', page.text).group(1))  # type: ignore[union-attr]
    assert decision is not None and confidence < threshold
    assert decision.group(1).startswith("answer (below the threshold, but the message"), decision.group(1)


@pytest.mark.parametrize("email", [STAFF, NOBODY])
def test_only_trainers_may_try(console_stack: ConsoleStack, email: str) -> None:
    client = console_stack.client(email)
    try:
        assert client.get("/console/tryit").status_code == 403
    finally:
        client.close()
