"""Trainers work the gaps inbox: employees' declined and not-helpful questions, grouped as `helpdesk kb gaps` groups
them; a curated link makes the bot answer paraphrases of the ticked questions with the chosen article (marked
curated) until undone; dismissed topics hide until they grew (3 new questions, 2 people) and return with the
dismissal; questions become intent examples (valid YAML); a new article
starts in the editor pre-filled with the questions. Every action is logged with who did it and can be undone."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from tests.console.conftest import NOBODY, STAFF, TRAINER, ConsoleStack, build_console_stack, sign_in
from tests.console.test_intents import csrf, flashes, write_small_intents

slow = pytest.mark.slow  # serves the bot with the real encoder and drives Chromium

PARKING = ["how do I book a parking space at the office", "can I reserve a parking spot for tomorrow",
           "where do I get a parking permit for the office garage"]
PARKING_PARAPHRASE = "How do I book a parking place at the office?"
COFFEE = ["is the coffee machine on floor 2 broken", "the coffee machine in the kitchen is leaking"]
COFFEE_LATER = ["the coffee machine on floor 3 shows an error", "the coffee machine on the ground floor is broken",
                "coffee machine in the lobby is out of order"]
CARDS = ["how do I order business cards", "who do I ask for business cards with my new title"]
DESK = ["can I expense a standing desk for working from home",
        "is there a budget for a standing desk when working from home"]
LUNCH = ["where do I get my lunch vouchers this month", "the canteen did not accept my lunch voucher"]
CURATED_ARTICLE = "help/contact-it"
_users = itertools.count(1)


@pytest.fixture(scope="module")
def gaps_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    """The console with the bundled articles and a small intent data set of its own (the tests write to it)."""
    tmp = tmp_path_factory.mktemp("gaps-console")
    data = write_small_intents(tmp / "data")
    with build_console_stack(tmp, sections={"paths": {"data_dir": str(data)}}) as stack:
        yield stack


def ask(stack: ConsoleStack, text: str):
    """An employee asks the bot (the real engine, a fresh conversation each time)."""
    from bot.engine import Engine
    from bot.messages import Message

    return Engine(stack.services).handle(Message(text=text, user_key=f"terminal:employee{next(_users)}"))


def declined(stack: ConsoleStack, questions: list[str]) -> None:
    for q in questions:
        reply = ask(stack, q)
        assert reply.outcome.value == "declined", (q, reply.text)


def rate_not_helpful(stack: ConsoleStack, question: str) -> None:
    """Ask, get an answer, press "Not helpful" (the rating lands in the gaps as not helpful)."""
    from bot.engine import Engine
    from bot.messages import Action, Message

    user = f"terminal:employee{next(_users)}"
    engine = Engine(stack.services)
    reply = engine.handle(Message(text=question, user_key=user))
    assert reply.outcome.value == "answered", (question, reply.text)
    (button,) = [b for b in reply.buttons if b.label == "Not helpful"]
    engine.handle(Message(text="", user_key=user, action=Action(button.action_id, button.value)))


def inbox(client: httpx.Client) -> str:
    page = client.get("/console/gaps")
    assert page.status_code == 200, page.text
    return page.text


def topic_key(html: str, question: str) -> str | None:
    """The key of the inbox topic listing ``question`` (None when no topic lists it)."""
    for match in re.finditer(r'<li class="card gap" id="gap-(\w+)".*?</li>\s*(?=<li class="card gap"|</ol>)', html,
                             re.S):
        if question in match.group(0):
            return match.group(1)
    return None


def post(client: httpx.Client, path: str, **form: str | list[str]) -> httpx.Response:
    token = csrf(inbox(client))
    return client.post(path, data={"csrf_token": token, **form})


def follow(client: httpx.Client, sent: httpx.Response) -> str:
    assert sent.status_code == 303, sent.text
    return client.get(sent.headers["location"]).text


def latest_action_id(stack: ConsoleStack) -> int:
    from knowledge_base.gap_actions import KbGapAction

    with stack.db.session() as s:
        return max(s.scalars(select(KbGapAction.id)))


@slow
def test_a_curated_link_answers_paraphrases_until_undone(gaps_stack: ConsoleStack, page, screenshot) -> None:
    from bot.console.models import ConsoleAction
    from bot.flows.answer import CURATED_NOTE
    from knowledge_base.curated import list_curated

    declined(gaps_stack, PARKING + LUNCH)
    before = gaps_stack.services.kb.search(PARKING_PARAPHRASE, groups=frozenset({"*"}))  # asked, not recorded
    assert before.curated is None and not before.answerable  # before: the bot does not know
    sign_in(gaps_stack, page, TRAINER)
    page.goto(gaps_stack.url("/console/gaps"))
    card = page.locator("li.gap", has_text=PARKING[0])
    card.get_by_text("3 questions").wait_for()

    card.get_by_text("Answer with an existing article").click()
    card.get_by_label("Article").select_option(CURATED_ARTICLE)
    form = card.locator("form[action$='/curate']")
    assert all(form.get_by_label(q).is_checked() for q in PARKING)  # every question ticked by default
    form.get_by_label(PARKING[2]).uncheck()  # a permit is not a booking: it does not belong to this answer
    card.get_by_role("button", name="Answer with this article").click()
    page.get_by_text(f"Paraphrases of these 2 question(s) now get article {CURATED_ARTICLE}, marked as curated. "
                     "The 1 unticked question(s) stay in the inbox.").wait_for()
    left = page.locator("li.gap", has_text=PARKING[2])  # the unticked question is still to deal with
    left.get_by_text(f"answered with article {CURATED_ARTICLE} (2 of 3 questions)").wait_for()
    left.get_by_text("1 question not dealt with yet.").wait_for()
    with gaps_stack.db.session() as s:
        assert {c["question"] for c in list_curated(s)} == set(PARKING[:2])

    reply = ask(gaps_stack, PARKING_PARAPHRASE)  # a paraphrase nobody curated word for word
    assert reply.outcome.value == "answered" and reply.sources[0].article_id == CURATED_ARTICLE
    assert CURATED_NOTE in reply.text

    page.get_by_role("button", name=f"Undo: answered with article {CURATED_ARTICLE}").click()
    page.get_by_text("The topic is back in the inbox.").wait_for()
    page.locator("li.gap", has_text=PARKING[0]).get_by_text("3 questions").wait_for()  # exactly as before
    with gaps_stack.db.session() as s:
        assert list_curated(s) == []
    assert ask(gaps_stack, PARKING_PARAPHRASE).outcome.value == "declined"  # the old behaviour again
    page.reload()
    page.locator("li.gap", has_text=LUNCH[0]).locator("summary", has_text="Dismiss").click()  # for the picture
    screenshot(page, "gaps")
    with gaps_stack.db.session() as s:
        log = [(a.actor, a.action, a.undone_by) for a in s.scalars(
            select(ConsoleAction).where(ConsoleAction.action.startswith("gap.")).order_by(ConsoleAction.id))]
    assert (TRAINER, "gap.curate", TRAINER) in log and (TRAINER, "gap.undo", None) in log


@slow
def test_a_dismissed_topic_stays_hidden_until_it_grew_and_returns_with_its_history(gaps_stack: ConsoleStack) -> None:
    declined(gaps_stack, COFFEE)
    with closing(gaps_stack.client(TRAINER)) as client:
        key = topic_key(inbox(client), COFFEE[0])
        assert key is not None
        refused = follow(client, post(client, f"/console/gaps/{key}/dismiss", reason="  "))
        assert ("error", "Say why the topic is dismissed (the reason field).") in flashes(refused)
        assert topic_key(refused, COFFEE[0]) == key  # nothing happened

        done = follow(client, post(client, f"/console/gaps/{key}/dismiss", reason="Facilities, not IT"))
        assert ("ok", "Dismissed: the topic stays hidden until at least 3 new questions from 2 different people "
                "join it.") in flashes(done)
        assert topic_key(done, COFFEE[0]) is None
        assert "dismissed: Facilities, not IT" in done and TRAINER in done  # the log says who and why

        declined(gaps_stack, COFFEE_LATER[:1])  # one paraphrase no longer brings it back
        assert topic_key(inbox(client), COFFEE[0]) is None
        shown_all = client.get("/console/gaps?all=1").text  # unless the trainer asks for the topics dealt with
        assert re.search(r'data-topic="[^"]*coffee[^"]*" data-state="dismissed"', shown_all)

        declined(gaps_stack, COFFEE_LATER[1:])  # two more people: it grew, it is back with its history
        again = inbox(client)
        key = topic_key(again, COFFEE[0])
        assert key is not None
        card = again[again.index(f'id="gap-{key}"'):]
        assert re.search(r"Dismissed before: “Facilities, not IT” \(trainer@example.com,\s+20[\d-]+ [\d:]+ UTC\)\. "
                         r"3 new questions\s+from 3 people since\.", card), card[:2000]


@slow
def test_questions_become_intent_examples_in_valid_yaml_until_undone(gaps_stack: ConsoleStack) -> None:
    from intents.editing import read_view

    # two different people rate the answer not helpful (one person alone never moves an article)
    rate_not_helpful(gaps_stack, DESK[0])
    rate_not_helpful(gaps_stack, DESK[0])
    declined(gaps_stack, DESK[1:])  # the article rated not helpful is demoted for close paraphrases
    folder = Path(gaps_stack.settings.paths.data_dir) / "intents"
    before = (folder / "it.yml").read_text(encoding="utf-8")
    with closing(gaps_stack.client(TRAINER)) as client:
        html = inbox(client)
        key = topic_key(html, DESK[0])
        card = html[html.index(f'id="gap-{key}"'):]
        assert "2 not helpful" in card and "1 declined" in card
        done = follow(client, post(client, f"/console/gaps/{key}/examples", intent="equipment_request", question=DESK))
        assert ("ok", "Added 2 example(s) to intent equipment_request; retrain on the Intents page to use them.") \
            in flashes(done)
        assert topic_key(done, DESK[0]) is None
        view = read_view(folder)
        assert view.problems == []  # valid YAML, valid training data
        assert {e.text for e in view.examples["equipment_request"]} >= set(DESK)
        assert "# Knowledge questions" in (folder / "it.yml").read_text(encoding="utf-8")
        intents_page = client.get("/console/intents").text
        assert 'id="no-problems"' in intents_page

        undone = follow(client, post(client, f"/console/gaps/actions/{latest_action_id(gaps_stack)}/undo"))
        assert topic_key(undone, DESK[0]) is not None
    assert (folder / "it.yml").read_text(encoding="utf-8") == before  # the examples are gone again


@slow
def test_write_a_new_article_opens_the_editor_with_the_questions(gaps_stack: ConsoleStack) -> None:
    declined(gaps_stack, CARDS)
    with closing(gaps_stack.client(TRAINER)) as client:
        key = topic_key(inbox(client), CARDS[0])
        assert key is not None
        sent = post(client, f"/console/gaps/{key}/article")
        assert sent.status_code == 303
        target = urlsplit(sent.headers["location"])
        query = parse_qs(target.query)
        assert target.path == "/console/articles/new"
        assert set(query["questions"]) == set(CARDS) and query["title"][0].lower().startswith(
            ("how do i order business cards", "who do i ask for business cards"))
        editor = client.get(sent.headers["location"])
        assert editor.status_code == 200 and all(q in editor.text for q in CARDS)
        assert topic_key(inbox(client), CARDS[0]) is None
        back = follow(client, post(client, f"/console/gaps/actions/{latest_action_id(gaps_stack)}/undo"))
        assert topic_key(back, CARDS[0]) is not None


@slow
def test_only_trainers_work_the_gaps_and_every_form_needs_the_csrf_token(gaps_stack: ConsoleStack) -> None:
    with closing(gaps_stack.client(STAFF)) as staff, closing(gaps_stack.client(NOBODY)) as nobody:
        for client in (staff, nobody):
            assert client.get("/console/gaps").status_code == 403
    with closing(gaps_stack.client(TRAINER)) as trainer:
        assert trainer.post("/console/gaps/actions/1/undo", data={"days": "90"}).status_code == 403  # no token
        stale = follow(trainer, post(trainer, "/console/gaps/0000deadbeef/dismiss", reason="gone"))
        assert ("error", "That topic changed since the page was shown (new questions arrived); look at it again.") \
            in flashes(stale)


# the library underneath (dismissals, partial curation, the one topic list): tests/knowledge_base/test_gap_actions.py
