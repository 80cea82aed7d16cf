"""Message shortcuts and the ticket emoji end to end, signed as Slack sends them, every Web API call checked.

"Ask IT about this message" answers the asker alone; "Create an IT ticket from this message" opens
the ticket modal prefilled and files exactly one ticket carrying the message's permalink; a ticket
emoji offers the message's author (not the reactor) a ticket, and only the author's Yes opens one,
once, whatever is clicked, reacted or replayed after.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.slack.assistant_models import SlackTicketOffer
from bot.channels.slack.reactions import NO, YES
from bot.channels.slack.shortcuts import ASK_CALLBACK, MODAL_CALLBACK, TICKET_CALLBACK
from integrations.ticketing.models import Ticket
from tests.slack.conftest import CLICKER, EMPLOYEE, EMPLOYEE_DM, SlackStack, example

pytestmark = pytest.mark.slow
CHANNEL = "C111"
AUTHOR = "U111"  # Uma writes the message; Alex (CLICKER) reacts to it


def fresh_ts() -> str:
    return f"1730000000.{uuid.uuid4().int % 10**6:06d}"


def shortcut(callback: str, user: str, text: str, ts: str) -> dict[str, Any]:
    """A ``message_action`` payload (docs.slack.dev/interactivity/implementing-shortcuts)."""
    return {"type": "message_action", "token": "x", "action_ts": fresh_ts(), "callback_id": callback,
            "trigger_id": f"{uuid.uuid4().int % 10**9}.111.valid", "message_ts": ts,
            "team": {"id": "T111", "domain": "example"}, "user": {"id": user, "name": "someone"},
            "channel": {"id": CHANNEL, "name": "general"},
            "message": {"type": "message", "user": AUTHOR, "ts": ts, "text": text},
            "response_url": "https://hooks.slack.com/app/T111/111/abc"}


def reaction(reactor: str, ts: str, emoji: str = "ticket") -> dict[str, Any]:
    """A ``reaction_added`` event (docs.slack.dev/reference/events/reaction_added)."""
    return {"token": "x", "team_id": "T111", "api_app_id": "A111", "type": "event_callback",
            "event_id": "Ev" + uuid.uuid4().hex[:10].upper(), "event_time": 1730000000,
            "event": {"type": "reaction_added", "user": reactor, "reaction": emoji, "item_user": AUTHOR,
                      "item": {"type": "message", "channel": CHANNEL, "ts": ts}, "event_ts": fresh_ts()}}


def click_offer(stack: SlackStack, who: str, action_id: str, offer: Any) -> dict[str, Any]:
    payload = json.loads(json.dumps(example("block_actions.json")))
    payload["user"] = {"id": who, "username": "x", "name": "x", "team_id": "T111"}
    payload["container"] = {"type": "message", "message_ts": offer.response["ts"],
                            "channel_id": offer.args["channel"], "is_ephemeral": False}
    payload["channel"] = {"id": offer.args["channel"], "name": "directmessage"}
    payload["message"] = {"type": "message", "ts": offer.response["ts"], "text": offer.args["text"]}
    button = next(e for b in offer.args["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["action_id"] == action_id)
    payload["actions"] = [{"type": "button", "action_id": action_id, "block_id": "hd_offer",
                           "value": button["value"], "action_ts": fresh_ts(),
                           "text": {"type": "plain_text", "text": "x"}}]
    assert stack.interactive(payload).status_code == 200
    return payload


def tickets_of(stack: SlackStack, user: str) -> list[Ticket]:
    with stack.services.db.session() as session:
        return list(session.scalars(select(Ticket).where(Ticket.requester_user_key == f"slack:{user}")
                                    .order_by(Ticket.id)))


def test_ask_it_about_a_message_answers_only_the_asker(slack_stack: SlackStack) -> None:
    ts = fresh_ts()
    response = slack_stack.interactive(shortcut(ASK_CALLBACK, EMPLOYEE, "how do I connect to the VPN?", ts))
    assert response.status_code == 200
    assert not slack_stack.fake.calls_to("chat.postMessage")  # nothing in the channel
    [answer] = slack_stack.fake.calls_to("chat.postEphemeral", ok_only=True)
    assert answer.args["channel"] == CHANNEL and answer.args["user"] == EMPLOYEE
    assert "VPN" in json.dumps(answer.args["blocks"])


def test_ticket_shortcut_opens_the_prefilled_modal_and_files_one_ticket_with_the_permalink(
        slack_stack: SlackStack) -> None:
    ts = fresh_ts()
    text = "The shared drive S: is gone on every laptop in finance since this morning"
    slack_stack.interactive(shortcut(TICKET_CALLBACK, EMPLOYEE_DM, text, ts))
    [opened] = slack_stack.fake.calls_to("views.open", ok_only=True)
    view = opened.args["view"]
    assert view["callback_id"] == MODAL_CALLBACK
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["summary"]["initial_value"] == text and inputs["details"]["initial_value"] == text

    submission = json.loads(json.dumps(example("view_submission.json")))
    submission["user"] = {"id": EMPLOYEE_DM, "username": "sam", "name": "sam", "team_id": "T111"}
    submission["view"].update(callback_id=view["callback_id"], private_metadata=view["private_metadata"], state={
        "values": {"summary": {"value": {"type": "plain_text_input", "value": "Finance lost the S: drive"}},
                   "details": {"value": {"type": "plain_text_input", "value": text}},
                   "urgency": {"value": {"type": "static_select", "selected_option": {"value": "high"}}}}})
    slack_stack.fake.reset()
    slack_stack.interactive(submission)
    slack_stack.interactive(submission)  # Slack retries the submission: still one ticket
    [ticket] = [t for t in tickets_of(slack_stack, EMPLOYEE_DM) if t.summary == "Finance lost the S: drive"]
    assert slack_stack.fake.permalink_of(CHANNEL, ts) in ticket.description
    assert ticket.urgency == "high"
    [link_call] = slack_stack.fake.calls_to("chat.getPermalink", ok_only=True)
    assert link_call.args == {"channel": CHANNEL, "message_ts": ts}
    [confirmation] = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    assert confirmation.args["channel"] == slack_stack.fake.dm_of(EMPLOYEE_DM) and ticket.key in \
        confirmation.args["text"]


def test_ticket_emoji_asks_the_author_and_only_their_yes_opens_one_ticket(slack_stack: SlackStack) -> None:
    ts = fresh_ts()
    text = "Printer on floor 3 prints blank pages since the toner change"
    slack_stack.fake.add_message(CHANNEL, ts, AUTHOR, text)
    first = reaction(CLICKER, ts)
    slack_stack.event(first)
    slack_stack.event(first)  # a redelivery
    slack_stack.event(reaction(EMPLOYEE, ts))  # someone else reacts too: no second offer
    slack_stack.event(reaction(CLICKER, ts, emoji="thumbsup"))  # another emoji: nothing
    [offer] = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    assert offer.args["channel"] == slack_stack.fake.dm_of(AUTHOR)  # the AUTHOR, privately
    assert "Open a ticket about this message?" in json.dumps(offer.args["blocks"])
    assert not slack_stack.fake.calls_to("chat.postEphemeral") or all(
        c.args["user"] == AUTHOR for c in slack_stack.fake.calls_to("chat.postEphemeral"))

    slack_stack.fake.reset()
    click_offer(slack_stack, CLICKER, YES, offer)  # the reactor cannot confirm for the author
    assert tickets_of(slack_stack, AUTHOR) == [] and tickets_of(slack_stack, CLICKER) == []
    [refusal] = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    assert refusal.args["channel"] == slack_stack.fake.dm_of(CLICKER) and "Only the person" in refusal.args["text"]

    yes = click_offer(slack_stack, AUTHOR, YES, offer)
    slack_stack.interactive(yes)  # a replay of the same click
    click_offer(slack_stack, AUTHOR, YES, offer)  # a second click
    click_offer(slack_stack, AUTHOR, NO, offer)  # and a late No changes nothing
    [ticket] = tickets_of(slack_stack, AUTHOR)
    assert ticket.summary == text
    assert slack_stack.fake.permalink_of(CHANNEL, ts) in ticket.description
    slack_stack.event(reaction(CLICKER, ts))  # reacting again later: still no second offer or ticket
    assert len(tickets_of(slack_stack, AUTHOR)) == 1
    with slack_stack.services.db.session() as session:
        [row] = session.scalars(select(SlackTicketOffer).where(SlackTicketOffer.message_ts == ts)).all()
        assert (row.state, row.ticket_key, row.reactor) == ("opened", ticket.key, CLICKER)


def test_author_can_decline_the_offer(slack_stack: SlackStack) -> None:
    ts = fresh_ts()
    slack_stack.fake.add_message(CHANNEL, ts, AUTHOR, "Wi-Fi in meeting room 2 drops every ten minutes")
    slack_stack.event(reaction(CLICKER, ts))
    [offer] = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    before = len(tickets_of(slack_stack, AUTHOR))
    slack_stack.fake.reset()
    click_offer(slack_stack, AUTHOR, NO, offer)
    click_offer(slack_stack, AUTHOR, YES, offer)  # changing one's mind after No: the offer is closed
    assert len(tickets_of(slack_stack, AUTHOR)) == before
    [updated] = slack_stack.fake.calls_to("chat.update", ok_only=True)
    assert "no ticket" in updated.args["text"]


def test_a_yes_rerun_after_a_crash_finds_its_ticket_instead_of_opening_a_second(
        slack_stack: SlackStack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process dies after the ticket is filed but before the offer is marked opened; the click's re-run
    (recovery) finds that ticket through the offer's idempotency key, even with duplicate detection off."""
    from bot.channels.slack.reactions import OPENED, TicketEmoji, offer_click_job

    ts = fresh_ts()
    slack_stack.fake.add_message(CHANNEL, ts, AUTHOR, "Docking station at desk 14 charges nothing")
    slack_stack.event(reaction(CLICKER, ts))
    [offer] = slack_stack.fake.calls_to("chat.postMessage", ok_only=True)
    monkeypatch.setattr(slack_stack.services.settings.ticketing, "duplicate_method", "off")
    job = offer_click_job(click_offer_payload(offer))
    assert job is not None
    emoji = slack_stack.adapter.surfaces.emoji
    move = TicketEmoji._move

    def dies_before_opened(self: TicketEmoji, offer_id: int, old: str, new: str, **kw: Any) -> bool:
        if new == OPENED:
            raise RuntimeError("the process died here")
        return move(self, offer_id, old, new, **kw)

    before = len(tickets_of(slack_stack, AUTHOR))
    monkeypatch.setattr(TicketEmoji, "_move", dies_before_opened)
    with pytest.raises(RuntimeError):
        emoji.on_click(job)
    monkeypatch.setattr(TicketEmoji, "_move", move)
    emoji.on_click(job)  # the same click, re-run by the recovery
    tickets = tickets_of(slack_stack, AUTHOR)
    assert len(tickets) == before + 1
    with slack_stack.services.db.session() as session:
        row = session.scalars(select(SlackTicketOffer).where(SlackTicketOffer.message_ts == ts)).one()
        assert (row.state, row.ticket_key) == ("opened", tickets[-1].key)


def click_offer_payload(offer: Any) -> dict[str, Any]:
    """The author's Yes on ``offer`` as Slack would send it (not sent: the test runs the job itself)."""
    payload = json.loads(json.dumps(example("block_actions.json")))
    payload["user"] = {"id": AUTHOR, "username": "x", "name": "x", "team_id": "T111"}
    payload["container"] = {"type": "message", "message_ts": offer.response["ts"],
                            "channel_id": offer.args["channel"], "is_ephemeral": False}
    button = next(e for b in offer.args["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["action_id"] == YES)
    payload["actions"] = [{"type": "button", "action_id": YES, "block_id": "hd_offer", "value": button["value"],
                           "action_ts": fresh_ts(), "text": {"type": "plain_text", "text": "x"}}]
    return payload
