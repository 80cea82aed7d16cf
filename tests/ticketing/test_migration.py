"""The 0003_tickets migration creates exactly the ticketing tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData

import integrations.ticketing.models  # noqa: F401
from bot.storage.base import Base

OURS = {"ticket", "ticket_comment", "ticket_event", "ticket_outbox", "jira_webhook_delivery"}


def test_ticketing_models_match_their_migration(migrated_db):
    ours = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        if table.name in OURS:
            table.to_metadata(ours)
    assert set(ours.tables) == OURS
    with migrated_db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), ours)
    ours_only = [d for d in diff if not (d[0] == "remove_table" and d[1].name not in OURS)
                 and not (d[0] == "remove_index" and d[1].table.name not in OURS)]
    assert ours_only == [], f"models and the 0003_tickets migration differ: {ours_only}"
