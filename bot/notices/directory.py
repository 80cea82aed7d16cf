"""Chat notifications for the directory library's notices: the lockout DM and IT's lockout alarm."""

from __future__ import annotations

from bot.messages import Button, Outcome, Reply
from bot.notices import Outgoing
from integrations.directory.notices import LockoutSeen, LockoutStorm


def render(notice: object, *, post_new_tickets: bool = True) -> list[Outgoing] | None:
    """The notifications for notice, or None when it is not one of this library's notices."""
    if isinstance(notice, LockoutSeen):
        return [Outgoing(reply=lockout_seen_reply(notice), dedupe_key=notice.dedupe_key,
                         user_key=notice.user_key, email=notice.email)]
    if isinstance(notice, LockoutStorm):
        return [Outgoing(reply=lockout_storm_reply(notice), dedupe_key=notice.dedupe_key, to_it=True)]
    return None


def lockout_seen_reply(notice: LockoutSeen) -> Reply:
    """The employee's DM: their account just locked; the buttons lead to the unlock offer or a ticket."""
    return Reply(text=f"Your account *{notice.login}* has just been locked "
                 "(too many wrong passwords). If that was you, I can unlock it now. "
                 "If it wasn't you, tell IT.", outcome=Outcome.ACCOUNT_ACTION, private=True,
                 buttons=[Button("Unlock my account", "account.check", {}, style="primary"),
                          Button("It wasn't me", "ticket.open",
                                 {"summary": "My account was locked and it wasn't me"})])


def lockout_storm_reply(notice: LockoutStorm) -> Reply:
    """IT's alarm: many accounts locked within the window."""
    return Reply(text=f":rotating_light: {notice.count} accounts were locked out in the last "
                 f"{notice.window_minutes} minutes — possible password spraying. "
                 "See `helpdesk audit --action lockout_seen`.", outcome=Outcome.INFO)


__all__ = ["lockout_seen_reply", "lockout_storm_reply", "render"]
