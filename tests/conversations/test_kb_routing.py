"""Routing and the knowledge base (issue 12, point 5): the knowledge base decides which article answers.

A new article answers the moment it is imported, with no intent for it; an intent,
confident or not, never picks the article; "Did you mean …?" offers only actions;
a long log paste is understood by its words and telling lines and kept whole for IT.
"""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.engine import Engine
from bot.flows.routing import is_action
from bot.messages import Action, Message, Outcome, Reply
from integrations.ticketing.models import Ticket
from intents.api import IntentScore, ParseResult

pytestmark = pytest.mark.slow  # the session's trained intent model and the bundled articles

GEN_AI = """---
title: Generative AI tools
tags: [ai]
owner: security-team@example.com
status: published
aliases:
  - is chatgpt allowed
---

# Generative AI tools

You may use ChatGPT Enterprise with your company account. Never paste customer data
or passwords into public AI chat tools.
"""


def _say(engine: Engine, user: str, text: str, action: Action | None = None) -> Reply:
    return engine.handle(Message(text=text, user_key=user, channel="terminal", display_name="k3", action=action))


def _user() -> str:
    return f"terminal:routing-{uuid.uuid4().hex[:8]}"


def _article(reply: Reply) -> str | None:
    return reply.sources[0].article_id if reply.sources else None


def test_an_imported_article_answers_at_once_without_an_intent(story_services, tmp_path: Path) -> None:
    from knowledge_base.drafts import retire_article

    engine, kb = Engine(story_services), story_services.kb
    before = _say(engine, _user(), "is chatgpt allowed")
    assert before.outcome is Outcome.DECLINED  # no article says so yet (and no intent ever will)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "gen-ai.md").write_text(GEN_AI, encoding="utf-8")
    summary = kb.import_dir(tmp_path, retire_missing=False)  # `kb import` of one new file; nothing retrained
    try:
        assert summary.created == ["policies/gen-ai"]
        for question in ("is chatgpt allowed", "am I allowed to use ChatGPT at work?"):
            reply = _say(engine, _user(), question)
            assert reply.outcome is Outcome.ANSWERED, (question, reply.text)
            assert _article(reply) == "policies/gen-ai" and "ChatGPT Enterprise" in reply.text
    finally:
        retire_article(kb, "policies/gen-ai")
    assert _say(engine, _user(), "is chatgpt allowed").outcome is Outcome.DECLINED


@pytest.mark.parametrize("intent", [IntentScore("laptop_request", 0.45), IntentScore("file_restore", 0.95),
                                    IntentScore("out_of_scope", 0.2)])
def test_the_intent_never_picks_the_article(story_services, monkeypatch, intent: IntentScore) -> None:
    """A wrong intent, unsure or sure, changes nothing: the knowledge base's best article answers."""
    engine = Engine(story_services)
    question = "how do I get on the vpn when working from home"
    expected = story_services.kb.search(question, groups={"*"})
    assert expected.answerable and expected.top is not None
    monkeypatch.setattr(story_services.nlu, "parse", lambda text, embedding=None: ParseResult(
        text=text, intent=intent, ranking=[intent, IntentScore("printer_issue", 0.1)],
        out_of_scope=intent.name == "out_of_scope"))
    reply = _say(engine, _user(), question)
    assert reply.outcome is Outcome.ANSWERED and _article(reply) == expected.top.info.id == "network/vpn"


WIFI = "the wifi in the office keeps dropping"
UNSURE_ACTION = [("password_reset", 0.55), ("wifi_issue", 0.30), ("account_unlock", 0.25)]


@pytest.mark.parametrize(("ranking", "message", "offered"), [
    # topics only, however unsure: never a "Did you mean", the knowledge base answers
    ([("wifi_issue", 0.55), ("printer_issue", 0.30)], WIFI, None),
    ([("wifi_issue", 0.50), ("password_reset", 0.45)], WIFI, None),
    # an unsure action, and an article answers the message: the answer, the actions among the candidates under it
    (UNSURE_ACTION, WIFI, ["Reset my password", "Unlock my account"]),
    # the answer's own "Open a ticket" already offers a ticket: it is not offered twice
    ([("password_reset", 0.55), ("open_ticket", 0.30)], WIFI, ["Reset my password"]),
    # an unsure action and no article: "Did you mean", between the actions only (never the topic between them)
    (UNSURE_ACTION, "please do the thing with it again", ["Reset my password", "Unlock my account", "None of these"]),
])
def test_did_you_mean_offers_only_actions(story_services, monkeypatch, ranking, message, offered) -> None:
    engine = Engine(story_services)
    scores = [IntentScore(name, conf) for name, conf in ranking]
    monkeypatch.setattr(story_services.nlu, "parse", lambda text, embedding=None: ParseResult(
        text=text, intent=scores[0], ranking=scores))
    reply = _say(engine, _user(), message)
    labels = [b.label for b in reply.buttons]
    if message == WIFI:
        assert reply.outcome is Outcome.ANSWERED and _article(reply) == "network/wifi"
        assert labels[:3] == ["Helpful", "Not helpful", "Open a ticket"] and labels[3:] == (offered or [])
    else:
        assert reply.outcome is Outcome.CLARIFY and labels == offered
    chosen = [b.value["intent"] for b in reply.buttons if "intent" in b.value]
    assert all(is_action(i) for i in chosen) and bool(chosen) == bool(offered)
    if chosen:  # a pick runs that action on the message it was offered for
        pick = next(b for b in reply.buttons if b.value.get("intent") == "password_reset")
        assert pick.value["text"] == message


def _log_paste() -> tuple[str, str]:
    lines = []
    for i in range(60):
        lines.append(f"2026-12-07 10:{i:02d}:{(i * 7) % 60:02d} INFO  pangps[{1200 + i}]: connecting to "
                     "vpn-gw01.corp.example.com portal=portal.corp.example.com user=alice@example.com")
        if i % 3 == 0:
            lines.append(f"2026-12-07 10:{i:02d}:{(i * 7) % 60:02d} ERROR pangps[{1200 + i}]: tunnel keepalive "
                         "timed out, reconnecting to vpn-gw01.corp.example.com")
    log = "\n".join(lines)[:3000].rsplit("\n", 1)[0]
    words = "that's what globalprotect shows every few minutes when it drops me, what should I do"
    return log + "\n\n" + words, words


def test_a_log_paste_is_understood_by_its_words_and_kept_whole_for_the_ticket(story_services) -> None:
    engine, user = Engine(story_services), _user()
    paste, words = _log_paste()
    assert len(paste) > 2900 and paste.count("globalprotect") == 1 and paste.count("alice@example.com") > 15
    alone = _say(engine, _user(), words)
    reply = _say(engine, user, paste)
    assert reply.outcome is Outcome.ANSWERED and alone.outcome is Outcome.ANSWERED
    assert _article(reply) == _article(alone) == "network/vpn-troubleshooting"
    keys = [(e["entity"], str(e["value"]).lower()) for e in reply.entities]
    assert ("system", "vpn") in keys and len(keys) == len(set(keys))  # each entity once, not once per log line
    for e in reply.entities:  # offsets point into what the employee sent
        assert paste[e["start"]:e["end"]].lower() in (str(e["value"]).lower(), "globalprotect")
    ticket_button = next(b for b in reply.buttons if b.action_id == "ticket.open")
    form = _say(engine, user, ticket_button.label, Action("ticket.open", dict(ticket_button.value)))
    if form.form is not None:
        form = _say(engine, user, "", Action(form.form.submit_action, {
            "summary": "VPN drops", "details": "see the log", "urgency": "normal"}))
    with story_services.db.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.requester_user_key == user)).one()
        last_line = paste.split("\n\n")[0].splitlines()[-1]
        assert last_line in ticket.description and words in ticket.description


@pytest.mark.parametrize("question", ["what's the phone number for the service desk"])
def test_a_question_about_reaching_it_is_answered_not_turned_into_a_ticket(story_services, question) -> None:
    """The intent model reads these as "talk to a person"; the knowledge base answers them (a ticket stays offered)."""
    engine, user = Engine(story_services), _user()
    assert story_services.nlu.parse(question).intent.name in ("talk_to_human", "open_ticket")
    reply = _say(engine, user, question)
    assert reply.outcome is Outcome.ANSWERED and _article(reply) == "help/contact-it", reply.text
    assert "Open a ticket" in [b.label for b in reply.buttons]
    with story_services.db.session() as s:
        assert s.scalars(select(Ticket).where(Ticket.requester_user_key == user)).first() is None


@pytest.mark.parametrize("request_", ["put me through to the service desk please", "get me someone from IT"])
def test_a_request_for_a_person_still_starts_the_ticket_form(story_services, request_) -> None:
    assert story_services.nlu.parse(request_).intent.name == "talk_to_human"
    reply = _say(Engine(story_services), _user(), request_)
    assert reply.outcome is Outcome.COLLECTING and reply.text.startswith("I'll pass this to a person in IT")


def _answer(services, text: str, parse: ParseResult) -> Reply:
    """The answer flow alone on ``text``, with the intent reading ``parse`` (rolled back: nothing is kept)."""
    from bot.flows.base import TurnContext
    from bot.storage.models import ConversationState

    with services.db.session() as session:
        state = ConversationState(user_key=_user(), slots={})
        session.add(state)
        ctx = TurnContext(message=Message(text=text, user_key=state.user_key), session=session, state=state,
                          encode=services.encoder.encode_one, parse=parse)
        reply = services.flows["answer"].handle_intent(ctx)
        session.rollback()
    return reply


def test_a_confident_intent_that_is_the_articles_own_lowers_the_bar_to_answer(story_services) -> None:
    """Just below the threshold, the article answers only when the message's confident intent is the article's
    own (the intent model's reading of its title card); an unsure or different intent leaves it declined."""
    from knowledge_base.search import INTENT_AGREEMENT_MARGIN

    kb, question = story_services.kb, "am i allowed to install notepad++"
    found = kb.search(question, groups={"*"})
    assert found.top is not None and found.top.info.id == "software/installation-policy"
    assert found.threshold - INTENT_AGREEMENT_MARGIN <= found.confidence < found.threshold  # the case at stake
    article_intent = story_services.flows["answer"].article_intents.of(found.top)
    assert article_intent == story_services.nlu.parse(question).intent.name == "software_request"

    def reading(name: str, confidence: float) -> ParseResult:
        return ParseResult(text=question, intent=IntentScore(name, confidence), ranking=[IntentScore(name, confidence)])

    agreed = _answer(story_services, question, reading(article_intent, 0.95))
    assert agreed.outcome is Outcome.ANSWERED and _article(agreed) == "software/installation-policy"
    for other in (reading(article_intent, 0.5), reading("printer_issue", 0.95), reading("out_of_scope", 0.95)):
        assert _answer(story_services, question, other).outcome is Outcome.DECLINED, other.intent


def test_an_articles_intent_is_read_once_per_article_and_model_version(story_services, monkeypatch) -> None:
    from bot.flows.article_intent import ArticleIntents

    calls: list[str] = []
    parse = story_services.nlu.parse
    monkeypatch.setattr(story_services.nlu, "parse", lambda text, embedding=None: calls.append(text) or
                        parse(text, embedding=embedding))
    reader = ArticleIntents(lambda: story_services.nlu, lambda: story_services.kb,
                            lambda: story_services.settings.nlu)
    hit = story_services.kb.search("printer says my job isn't there", groups={"*"}).top
    assert hit is not None and hit.info.id == "help/printing"
    assert reader.of(hit) == reader.of(hit) == "printer_issue" and len(calls) == 1
    assert "Printing and scanning" in calls[0]  # the title card (title, aliases, tags) is what is read
    edited = dataclasses.replace(hit, info=dataclasses.replace(hit.info, content_hash="edited"))
    reader.of(edited)  # a new version of the article is read again
    assert len(calls) == 2
    model = story_services.nlu.model
    monkeypatch.setitem(model.meta, "version", "20991231T000000Z-retrained")  # a new model serves
    reader.of(edited)
    assert len(calls) == 3


def test_an_intent_backend_that_fails_gives_no_second_opinion_and_the_turn_goes_on(story_services) -> None:
    """A remote intent server that is down: the article's intent is unknown (not remembered), nothing breaks."""
    from bot.errors import NluBackendError
    from bot.flows.article_intent import ArticleIntents

    class Down:
        calls = 0

        def parse(self, text: str, embedding=None) -> ParseResult:
            Down.calls += 1
            raise NluBackendError(detail="connection refused")

        def parse_batch(self, texts):  # pragma: no cover - not used
            raise NluBackendError(detail="connection refused")

    reader = ArticleIntents(lambda: Down(), lambda: story_services.kb, lambda: story_services.settings.nlu)
    hit = story_services.kb.search("printer says my job isn't there", groups={"*"}).top
    assert hit is not None
    sure = ParseResult(text="x", intent=IntentScore("printer_issue", 0.99))
    assert reader.of(hit) is None and not reader.agree(sure, hit)
    assert Down.calls == 2  # a failure is not cached: the next question tries again


@pytest.mark.parametrize(("feedback", "agrees"), [(0.0, True), (0.05, True), (-0.05, False)])
def test_employees_not_helpful_ratings_outrank_the_intents_agreement(story_services, feedback, agrees) -> None:
    """An article demoted by "Not helpful" ratings of close paraphrases gets no lower bar from a matching intent
    (else the model would override what employees said); without ratings, or rated helpful, it does."""
    from bot.flows.answer import AnswerFlow
    from knowledge_base.search import INTENT_AGREEMENT_MARGIN, SearchResult

    class Agreeing:
        def agree(self, parse, hit) -> bool:
            return True

    flow = AnswerFlow(lambda: story_services.kb, story_services.settings.kb, Agreeing())  # type: ignore[arg-type]
    hit = story_services.kb.search("am i allowed to install notepad++", groups={"*"}).top
    assert hit is not None
    hit = dataclasses.replace(hit, feedback=feedback)
    result = SearchResult("q", [hit], confidence=0.44 - INTENT_AGREEMENT_MARGIN / 2, threshold=0.44)
    flow.second_opinion(result, ParseResult(text="q", intent=IntentScore("software_request", 0.99)))
    assert result.intent_agrees is agrees and result.answerable is agrees
