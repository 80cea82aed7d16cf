"""Who may see a reply: what goes ephemeral, what goes to the DM, what never enters a channel.

Every rule about where a reply may appear lives here; the listeners and
:class:`~bot.channels.slack.delivery.Delivery` ask these functions and only
carry out the answer.

- Account actions, ticket details and feedback acknowledgements asked about in a
  public channel are shown only to the employee (ephemeral), whatever the flow set.
- A reply the flow marked private never appears in a public channel.
- A credential (temporary password, one-time link) is shown once and never kept in
  a conversation's history: ephemeral even in a DM, and never sent to a
  ``response_url`` (that URL comes from the payload and is not Slack's to vouch for).
- A reply Slack refused is queued for the employee's DM, as a private reply.
- Only a plain knowledge answer in a public channel may be shared there by its asker.
"""

from __future__ import annotations

from bot.channels.slack.payloads import is_public
from bot.messages import Outcome, Reply

PERSONAL_INTENTS = {"password_reset", "account_unlock", "ticket_status", "my_tickets"}
PERSONAL_OUTCOMES = {Outcome.ACCOUNT_ACTION, Outcome.FEEDBACK}


def is_personal(reply: Reply) -> bool:
    """Account actions, ticket details and feedback acknowledgements never go to a public channel."""
    return reply.private or reply.outcome in PERSONAL_OUTCOMES or reply.intent in PERSONAL_INTENTS


def private_conversation(channel_id: str | None, *, ephemeral: bool = False, in_view: bool = False) -> bool:
    """Whether only the employee sees this turn (a DM, an ephemeral message, App Home or a modal)."""
    return ephemeral or in_view or not is_public(channel_id)


def only_for_the_asker(reply: Reply, channel_id: str | None, *, asked_in_ephemeral: bool = False) -> bool:
    """In a public channel: show ``reply`` to the asker alone (personal, or asked where only they see)."""
    return is_public(channel_id) and (asked_in_ephemeral or is_personal(reply))


def must_be_ephemeral(reply: Reply, *, public: bool, forced: bool = False) -> bool:
    """Post ephemerally instead of as a message: forced, a credential, or private content in public."""
    return forced or reply.sensitive or (public and reply.private)


def may_use_response_url(reply: Reply) -> bool:
    """A credential never goes to a ``response_url``: it is just a URL in the payload."""
    return not reply.sensitive


def for_the_dm_outbox(reply: Reply) -> Reply:
    """A reply parked for later delivery goes to the DM, as a private reply."""
    reply.private = True
    return reply


def shareable(reply: Reply, channel_id: str | None) -> bool:
    """``/helpdesk`` in a public channel: a plain, non-private answer may be shared there by its asker."""
    return (is_public(channel_id) and not reply.private and bool(reply.turn_id)
            and reply.outcome is Outcome.ANSWERED)
