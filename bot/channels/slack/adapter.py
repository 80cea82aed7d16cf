"""The Slack channel: a bolt App whose payloads become recorded jobs, answered as turns in Block Kit.

Surfaces: DMs (message.im), @mentions (app_mention, answered in the thread),
``/helpdesk`` (ephemeral, with "Share in channel"), buttons (block_actions),
the ticket modal (views.open / view_submission) and App Home (views.publish);
for IT staff, the triage cards, their Reply modal and the two-way relay (:mod:`.triage`).

A delivery goes: bolt's signature check → :mod:`.intake` (payload → job, claimed
and written to the inbox *before* the ack, rate-limited per user) → the ack →
:class:`~.work.Work` on the per-user queue (encoder, LDAP, Jira) → the row is
marked done. :mod:`.recovery` answers the rows a dead replica left. The same App
serves HTTP (``/slack/events``) and Socket Mode.

The jobs are in their own modules: :mod:`.jobs` (payload → job), :mod:`.blocks` /
:mod:`.modals` / :mod:`.home` (Reply → Block Kit), :mod:`.privacy` (who may see a
reply), :mod:`.delivery` (posting it), :mod:`.sharing` ("Share in channel"
storage), and the answers in :mod:`.events`, :mod:`.command` and :mod:`.actions`.
:func:`build_slack_adapter` wires them from the composition root.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

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
from bot.channels.slack.followups import REOPEN_CALLBACK, FollowUps
from bot.channels.slack.home import HomeTab, TicketLister, ticket_lister
from bot.channels.slack.identity import UserResolver
from bot.channels.slack.intake import Intake
from bot.channels.slack.jobs import Job
from bot.channels.slack.logs import bolt_logger
from bot.channels.slack.modals import TICKET_CALLBACK
from bot.channels.slack.oauth import ContextTrackingExecutor, Installations
from bot.channels.slack.recovery import Recovery
from bot.channels.slack.retention import slack_purges
from bot.channels.slack.sharing import SharedReplies
from bot.channels.slack.shortcuts_intake import EmployeeSurfaces
from bot.channels.slack.triage import TriageDesk
from bot.channels.slack.triage_access import ItStaff
from bot.channels.slack.triage_card import REPLY_CALLBACK
from bot.channels.slack.triage_intake import TriageJobs
from bot.channels.slack.triage_send import TriageSender
from bot.channels.slack.triage_sync import follow_notice
from bot.channels.slack.turns import TurnHandler, Turns
from bot.channels.slack.work import Work
from bot.config.slack import SlackSettings
from bot.engine import Engine
from bot.errors import ConfigError
from bot.storage.session import Database
from integrations.ticketing.notices import TicketNoticeSink

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


class SlackAdapter:
    """Owns the bolt App, its thread pools and the inbox recovery, and wires the jobs' handlers."""

    def __init__(self, settings: SlackSettings, *, client: WebClient, engine: TurnHandler, db: Database,
                 delivery: Delivery, open_tickets: TicketLister, executor: TrackingExecutor | None = None,
                 secrets: tuple[str, ...] = (), notices: TicketNoticeSink | None = None,
                 installations: Installations | None = None,
                 followups: Callable[[UserResolver], FollowUps] | None = None) -> None:
        self.settings = settings
        self.client = client
        self.engine = engine
        self.delivery = delivery
        # Two pools: ``executor`` (bolt's listeners, modals to open at once, short notices: always quick)
        # and ``work`` (the turns themselves: encoder, LDAP, Jira), one user at a time.
        pool = TrackingExecutor if installations is None else ContextTrackingExecutor  # OAuth: token goes along
        self.executor = executor or pool(max(4, settings.listener_threads))
        self.work_pool = TrackingExecutor(settings.listener_threads)
        self.per_user = PerKeyQueue(self.work_pool)
        self.users = UserResolver(client, settings.user_cache_seconds)
        self.shared = SharedReplies(db)
        self.ledger = EventLedger(db, settings.event_retention_hours, also_purge=slack_purges(db, self.shared),
                                  lease_seconds=settings.event_lease_seconds,
                                  max_attempts=settings.event_max_attempts, secrets=secrets)
        self.turns = Turns(engine, self.users)
        self.events = EventListeners(self.turns, delivery,
                                     HomeTab(client, self.users, open_tickets, command=settings.slash_command))
        self.command = SlashCommand(self.turns, delivery, self.shared)
        self.interactions = Interactions(client, self.turns, delivery, self.shared, command=settings.slash_command)
        self.work = Work(self.per_user, self.ledger, delivery, {
            "mention": lambda job, live: self.events.on_mention(job),
            "dm": lambda job, live: self.events.on_message(job),
            "home": lambda job, live: self.events.on_home_opened(job),
            "command": lambda job, live: self.command.on_command(job),
            "action": lambda job, live: self.interactions.on_action(job, live=live),
            "submission": lambda job, live: self.interactions.on_ticket_submitted(job),
        })
        self.recovery = Recovery(self.ledger, self.work, interval=settings.recovery_interval_seconds)
        # the employee surfaces: the assistant panel (its threads are DMs), message shortcuts, the ticket emoji
        self.surfaces = EmployeeSurfaces(settings, client=client, db=db, turns=self.turns, delivery=delivery,
                                         secrets=secrets)
        self.work.handlers.update(self.surfaces.handlers())
        self.work.handlers["dm"] = self.surfaces.on_dm(self.work.handlers["dm"])
        # IT triage in Slack (cards, Reply, two-way relay): needs the ticket notices to act on tickets
        self.triage: TriageDesk | None = None
        if notices is not None:
            self.triage = TriageDesk(client=client, db=db, notices=notices, users=self.users,
                                     staff=ItStaff(client, settings), turns=self.turns, delivery=delivery,
                                     secrets=secrets, sync_seconds=settings.triage_sync_seconds)
            self.work.handlers.update(self.triage.handlers())
        self.sender = TriageSender(client, db, delivery, cards=settings.triage_cards)
        secret = settings.signing_secret.get_secret_value() if settings.signing_secret else None
        self.app = App(
            signing_secret=secret,  # the bot token comes with `client`
            client=client,
            token_verification_enabled=False,  # auth.test happens lazily, on the first request
            request_verification_enabled=secret is not None,
            process_before_response=False,
            listener_executor=self.executor,
            logger=bolt_logger(),
            # OAuth install mode: bolt's OAuth flow + authorize on our installation store
            oauth_settings=installations.oauth_settings() if installations is not None else None,
        )
        self.installations = installations
        self.followups = followups(self.users) if followups is not None else None
        self._wire_installs_and_followups()
        self.intake = Intake(self.ledger, self.work, self.interactions, self.executor,
                             command=settings.slash_command, turns_per_minute=settings.turns_per_minute)
        if self.triage is not None:  # before the regular jobs: takes only the triage surface's payloads
            self.intake.sources.insert(0, TriageJobs(db, self.triage.open_reply))
        self.app.use(self.intake)
        self.surfaces.register(self.app, intake=self.intake, work=self.work)  # after the regular jobs
        self._register()

    def _wire_installs_and_followups(self) -> None:
        """Follow-up buttons go to :class:`FollowUps`; in OAuth mode every job runs with its user's token."""
        handlers = self.work.handlers
        if self.followups is not None:
            followups, other = self.followups, handlers["action"]
            handlers["action"] = lambda job, live: (followups.on_action(job, live=live) if followups.handles(job)
                                                    else other(job, live))
        if self.installations is not None:
            for kind, handle in list(handlers.items()):
                handlers[kind] = self.installations.handler(handle)
            self.app.use(self.installations.middleware())  # first of ours: remembers the user, binds the token
            self.app.enable_token_revocation_listeners()  # app_uninstalled / tokens_revoked forget the tokens

    def start(self) -> None:
        """Answer what a dead replica left, now and periodically (``serve`` and ``slack socket`` call this)."""
        self.recovery.start()
        if self.triage is not None:
            self.triage.start()

    def recover_once(self) -> int:
        """One recovery round (tests, tools); the number of deliveries taken over."""
        return self.recovery.run_once()

    def run_job(self, job: Job) -> None:
        """Answer a job now, without the inbox (tests, tools)."""
        self.work.run(None, job)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until all work started by earlier requests has finished (tests, shutdown)."""
        # the quick pool hands work over before its tasks end, so once it is idle all work is queued
        return self.executor.wait_idle(timeout) and self.work_pool.wait_idle(timeout)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Finish the work in flight (replies are not dropped), then stop the pools and the recovery."""
        self.recovery.stop()
        if self.triage is not None:
            self.triage.stop()
        self.wait_idle(timeout)
        self.executor.shutdown(wait=False)
        self.work_pool.shutdown(wait=False)

    def _register(self) -> None:
        """Ack-only listeners: the intake already took every payload that is work; the rest is acked."""
        app = self.app
        for event in ("app_mention", "message", "app_home_opened"):
            app.event(event)(_ack)
        app.command(self.settings.slash_command)(_ack)
        app.action(re.compile("^" + re.escape(ACTION_PREFIX)))(_ack)
        app.view(TICKET_CALLBACK)(_ack)
        if self.followups is not None:
            app.view(REOPEN_CALLBACK)(self.followups.on_submit)
        app.view_closed(TICKET_CALLBACK)(_ack)
        app.view(REPLY_CALLBACK)(_ack)
        app.view_closed(REPLY_CALLBACK)(_ack)


def _ack(ack: Ack) -> None:
    ack()


def build_slack_adapter(services: Services, *, client: WebClient | None = None,
                        executor: TrackingExecutor | None = None) -> SlackAdapter:
    """The adapter wired from the composition root; registers the ``slack`` notification sender."""
    settings = services.settings.slack
    if not settings.configured:
        raise ConfigError("The Slack channel needs slack.bot_token (HELPDESK_SLACK__BOT_TOKEN=xoxb-…), "
                          "or slack.oauth (client_id, client_secret, token_key) to be installed with OAuth.")
    installations = None
    if settings.oauth.enabled:  # several workspaces / org-wide: tokens from our installation store
        installations = Installations(settings.oauth, services.db, public_url=services.settings.server.public_url)
        installations.store.reencrypt()  # rows sealed with old_token_key move to token_key
    client = client or build_client(settings, per_installation=installations is not None)
    delivery = Delivery(client, services.db)
    adapter = SlackAdapter(settings, client=client, engine=Engine(services), db=services.db, delivery=delivery,
                           open_tickets=ticket_lister(lambda: services.ticketing, services.db), executor=executor,
                           secrets=services.secrets, notices=services.notices, installations=installations,
                           followups=lambda users: _followups(services, client, delivery, users, installations))
    follow = getattr(services.notices, "follow", None)
    if adapter.triage is not None and settings.triage_cards and follow is not None:
        follow(follow_notice)  # cards follow ticket notices at once; the periodic sync stays as the safety net
    send = adapter.sender.send
    services.register_sender("slack", installations.sender(send) if installations is not None else send)
    return adapter


def _followups(services: Services, client: WebClient, delivery: Delivery, users: UserResolver,
               installations: Installations | None) -> FollowUps:
    """The "Did this fix it?" answers, wired with the ticketing settings and notices."""
    return FollowUps(client, delivery, services.db, users, settings=services.settings.ticketing,
                     sink=services.notices, secrets=services.secrets,
                     bind=installations.for_user if installations is not None else None)
