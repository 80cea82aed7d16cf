"""The Slack channel: a bolt App whose listeners turn Slack payloads into turns and replies into Block Kit.

Surfaces: DMs (message.im), @mentions (app_mention, answered in the thread),
``/helpdesk`` (ephemeral, with "Share in channel"), buttons (block_actions),
the ticket modal (views.open / view_submission) and App Home (views.publish).
Every listener acks at once; the slow part (encoder, LDAP, Jira) runs in a
bolt *lazy* listener on :class:`TrackingExecutor` after the ack. The same App
serves HTTP (``/slack/events``) and Socket Mode.

The jobs are in their own modules: :mod:`.payloads` (Slack payload → Message),
:mod:`.blocks` / :mod:`.modals` / :mod:`.home` (Reply → Block Kit),
:mod:`.privacy` (who may see a reply), :mod:`.delivery` (posting it),
:mod:`.sharing` ("Share in channel" storage), and the listeners in
:mod:`.events`, :mod:`.command` and :mod:`.actions`. :func:`build_slack_adapter`
wires them from the composition root.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.channels.slack.actions import Interactions
from bot.channels.slack.blocks import ACTION_PREFIX
from bot.channels.slack.client import build_client
from bot.channels.slack.command import SlashCommand
from bot.channels.slack.dedupe import EventLedger
from bot.channels.slack.delivery import Delivery
from bot.channels.slack.events import EventListeners
from bot.channels.slack.executor import PerKeyQueue, TrackingExecutor
from bot.channels.slack.home import HomeTab, TicketLister, ticket_lister
from bot.channels.slack.identity import UserResolver
from bot.channels.slack.modals import TICKET_CALLBACK
from bot.channels.slack.payloads import user_of
from bot.channels.slack.sharing import SharedReplies
from bot.channels.slack.turns import TurnHandler, Turns
from bot.config.slack import SlackSettings
from bot.engine import Engine
from bot.errors import ConfigError
from bot.storage.session import Database

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


class SlackAdapter:
    """Owns the bolt App and its thread pools, and registers the listeners on it."""

    def __init__(self, settings: SlackSettings, *, client: WebClient, engine: TurnHandler, db: Database,
                 delivery: Delivery, open_tickets: TicketLister, executor: TrackingExecutor | None = None) -> None:
        self.settings = settings
        self.client = client
        self.engine = engine
        self.delivery = delivery
        # Two pools: bolt's (acks + lazy hand-offs: always quick, so an ack never queues behind
        # a slow turn) and ``work`` (the turns themselves: encoder, LDAP, Jira).
        self.executor = executor or TrackingExecutor(max(4, settings.listener_threads))
        self.work = TrackingExecutor(settings.listener_threads)
        self.per_user = PerKeyQueue(self.work)
        self.users = UserResolver(client, settings.user_cache_seconds)
        self.shared = SharedReplies(db)
        self.ledger = EventLedger(db, settings.event_retention_hours, also_purge=[self.shared.purge])
        self.turns = Turns(engine, self.users)
        self.events = EventListeners(self.turns, delivery, self.ledger,
                                     HomeTab(client, self.users, open_tickets, command=settings.slash_command))
        self.command = SlashCommand(self.turns, delivery, self.shared)
        self.interactions = Interactions(client, self.turns, delivery, self.shared, command=settings.slash_command)
        secret = settings.signing_secret.get_secret_value() if settings.signing_secret else None
        self.app = App(
            signing_secret=secret,  # the bot token comes with `client`
            client=client,
            token_verification_enabled=False,  # auth.test happens lazily, on the first request
            request_verification_enabled=secret is not None,
            process_before_response=False,
            listener_executor=self.executor,
            logger=logging.getLogger("bot.channels.slack.bolt"),
        )
        self._register()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until all work started by earlier requests has finished (tests, shutdown)."""
        # bolt's tasks hand their work over before they end, so once they are idle all work is queued.
        return self.executor.wait_idle(timeout) and self.work.wait_idle(timeout)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Finish the work in flight (replies are not dropped), then stop the pools."""
        self.wait_idle(timeout)
        self.executor.shutdown(wait=False)
        self.work.shutdown(wait=False)

    def _deferred(self, fn: Callable[..., None]) -> Callable[..., None]:
        """A bolt lazy listener that only hands ``fn`` to the work pool (same name and signature)."""

        @functools.wraps(fn)
        def hand_off(**kwargs: Any) -> None:
            self.per_user.submit(user_of(kwargs.get("body") or {}), fn, **kwargs)

        return hand_off

    def _register(self) -> None:
        app, later, events, actions = self.app, self._deferred, self.events, self.interactions
        app.event("app_mention")(ack=_ack, lazy=[later(events.on_mention)])
        app.event("message")(ack=_ack, lazy=[later(events.on_message)])
        app.event("app_home_opened")(ack=_ack, lazy=[later(events.on_home_opened)])
        app.command(self.settings.slash_command)(ack=_ack, lazy=[later(self.command.on_command)])
        app.action(re.compile("^" + re.escape(ACTION_PREFIX)))(ack=actions.ack_action,
                                                               lazy=[later(actions.on_action)])
        app.view(TICKET_CALLBACK)(ack=_ack, lazy=[later(actions.on_ticket_submitted)])
        app.view_closed(TICKET_CALLBACK)(_ack)


def _ack(ack: Ack) -> None:
    ack()


def build_slack_adapter(services: Services, *, client: WebClient | None = None,
                        executor: TrackingExecutor | None = None) -> SlackAdapter:
    """The adapter wired from the composition root; registers the ``slack`` notification sender."""
    settings = services.settings.slack
    if not settings.configured:
        raise ConfigError("The Slack channel needs slack.bot_token (HELPDESK_SLACK__BOT_TOKEN=xoxb-…).")
    client = client or build_client(settings)
    delivery = Delivery(client, services.db)
    adapter = SlackAdapter(settings, client=client, engine=Engine(services), db=services.db, delivery=delivery,
                           open_tickets=ticket_lister(lambda: services.ticketing, services.db), executor=executor)
    services.register_sender("slack", delivery.send_notification)
    return adapter
