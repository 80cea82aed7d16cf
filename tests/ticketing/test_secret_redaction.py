"""Secrets an employee types never reach the ticket rows, the conversation state or Jira."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.messages import Outcome
from integrations.ticketing.models import Ticket, TicketComment, TicketOutbox
from tests.ticketing.conftest import CLOUD_TOKEN, SERVER_PAT, deliver_outbox, due_now, press, say

SECRET_WORD = "hunter22"

def _rows_text(s) -> str:
    """Every stored text the ticketing tables and the conversation state hold, as one string."""
    from bot.storage.models import ConversationState

    with s.db.session() as session:
        parts = []
        for t in session.scalars(select(Ticket)).all():
            parts += [t.summary, t.description, t.employee_text, json.dumps(t.extra)]
        parts += [c.body for c in session.scalars(select(TicketComment)).all()]
        parts += [json.dumps(o.payload) for o in session.scalars(select(TicketOutbox)).all()]
        parts += [json.dumps(c.slots) for c in session.scalars(select(ConversationState)).all()]
    return "\n".join(parts)


def test_secrets_in_details_and_comments_never_reach_rows_or_jira(jira_services, fake_jira):
    s = jira_services
    token = CLOUD_TOKEN if fake_jira.deployment == "cloud" else SERVER_PAT
    # conversational collection: the details typed in chat are kept in the flow's slots meanwhile
    press(s, "alice", "ticket.open", {"summary": "Printer jams on floor 3"})
    say(s, "alice", f"it asks for my password: {SECRET_WORD} and then jams, token {token}")
    assert SECRET_WORD not in _rows_text(s) and token not in _rows_text(s)
    recap = say(s, "alice", "normal")
    assert SECRET_WORD not in recap.text and token not in recap.text, "the recap never repeats a secret"
    say(s, "alice", "yes")
    deliver_outbox(s)
    again = press(s, "alice", "ticket.submit", {"summary": "Printer on floor 3 jams again",
                                                "details": f"still jams; new pin is {SECRET_WORD}"})
    add = again.buttons[0]
    assert add.action_id == "ticket.comment_existing"
    done = press(s, "alice", add.action_id, add.value)
    assert done.outcome is Outcome.ESCALATED
    # a forged button value carrying a secret straight into the comment
    press(s, "alice", "ticket.comment_existing", {"key": "IT-1", "details": f"password={SECRET_WORD}2"})
    deliver_outbox(s)
    due_now(s)
    deliver_outbox(s)
    stored = _rows_text(s)
    assert SECRET_WORD not in stored and token not in stored and "[REDACTED]" in stored
    [issue] = fake_jira.state.issues.values()
    sent = issue["fields"]["description"] + json.dumps(fake_jira.state.comments)
    assert len(fake_jira.state.comments["IT-1"]) == 2
    assert SECRET_WORD not in sent and token not in sent and "[REDACTED]" in sent
