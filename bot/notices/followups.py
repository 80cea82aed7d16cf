"""Follow-up wording and buttons: "Did this fix it?" on a resolved ticket, the reminder while IT waits.

The answers are Slack interactions (:mod:`bot.channels.slack.followups`): the buttons are only
offered to requesters who are reached in Slack; other channels keep the rating question alone.
"""

from __future__ import annotations

from bot.messages import Button

FIXED_ACTION = "followup.fixed"
REOPEN_ACTION = "followup.reopen"
FIX_QUESTION = "Did this fix it?"


def answers_in_slack(requester_user_key: str) -> bool:
    """Whether the requester can answer the follow-up buttons (they are reached in Slack)."""
    return requester_user_key.startswith("slack:")


def fix_buttons(key: str | None, requester_user_key: str) -> list[Button]:
    """*Yes* / *Reopen* for a resolved ticket (none when the requester is not in Slack or there is no key)."""
    if not key or not answers_in_slack(requester_user_key):
        return []
    value = {"key": key}
    return [Button(label="✅ Yes, it's fixed", action_id=FIXED_ACTION, value=value, style="primary"),
            Button(label="↩️ Reopen", action_id=REOPEN_ACTION, value=value)]


def reminder_text(key: str, summary: str, working_days: int) -> str:
    """The reminder DM's text."""
    days = "working day" if working_days == 1 else "working days"
    return (f"A reminder: IT has been waiting {working_days} {days} for your reply on {key} "
            f"(“{summary}”) and can't go on without it. Tell me what they need and I'll add it to the ticket.")
