"""The ticketing notices as chat notifications: dedupe keys, buttons, and where IT's posts go."""

from __future__ import annotations

from bot.notices import render
from integrations.ticketing.notices import (
    NewTicketForTriage,
    TicketCommented,
    TicketCreated,
    TicketFailed,
    TicketFailedForTriage,
    TicketResolved,
)

WHO = {"requester_user_key": "slack:alice", "requester_email": "alice@example.com"}


def test_each_notice_keeps_its_dedupe_key_and_audience():
    cases = [
        (TicketCreated(idem_key="helpdesk-1", key="IT-1", url=None, summary="VPN", **WHO),
         "ticket:helpdesk-1:created", False),
        (TicketCommented(key="IT-1", url=None, summary="VPN", author="Dana", body="On it", comment_id="c-1", **WHO),
         "ticket:IT-1:comment:c-1", False),
        (TicketResolved(key="IT-1", url=None, summary="VPN", resolution="Fixed", occurrence=2, **WHO),
         "ticket:IT-1:resolved:2", False),
        (TicketFailed(idem_key="helpdesk-1", summary="VPN", **WHO), "ticket:helpdesk-1:failed", False),
        (NewTicketForTriage(idem_key="helpdesk-1", key="IT-1", url=None, summary="VPN", requester_name="Alice",
                            category=None, urgency="high", **WHO), "ticket:helpdesk-1:triage", True),
        (TicketFailedForTriage(idem_key="helpdesk-1", summary="VPN", requester_name=None, **WHO),
         "ticket:helpdesk-1:failed-triage", True),
    ]
    for notice, dedupe_key, to_it in cases:
        [out] = render(notice)
        assert (out.dedupe_key, out.to_it) == (dedupe_key, to_it)
        assert out.user_key == (None if to_it else "slack:alice")


def test_resolution_offers_ratings_and_the_link():
    notice = TicketResolved(key="IT-1", url="https://jira.example.com/browse/IT-1", summary="VPN",
                            resolution="Fixed", occurrence=1, **WHO)
    [out] = render(notice)
    assert "is resolved (Fixed). How did IT do?" in out.reply.text
    assert [b.action_id for b in out.reply.buttons] == (["ticket.rate"] * 3 + ["followup.fixed", "followup.reopen"]
                                                        + ["ticket.link"])  # Slack requester: "Did this fix it?"
    assert [b.value["rating"] for b in out.reply.buttons[:3]] == [5, 3, 1]


def test_new_ticket_posts_follow_notify_triage_but_failures_always_reach_it():
    new = NewTicketForTriage(idem_key="helpdesk-1", key="IT-1", url=None, summary="VPN", requester_name="Alice",
                             category=None, urgency="high", **WHO)
    [post] = render(new, post_new_tickets=True)
    assert post.reply.text == "New ticket IT-1 from Alice: “VPN” (category general, urgency high)"
    assert render(new, post_new_tickets=False) == []
    failed = TicketFailedForTriage(idem_key="helpdesk-1", summary="VPN", requester_name=None, **WHO)
    [alert] = render(failed, post_new_tickets=False)
    assert alert.to_it and "Jira refused a ticket from alice@example.com" in alert.reply.text
