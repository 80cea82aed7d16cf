"""Alembic environment: runs against the engine handed in by bot.storage.migrate."""

from alembic import context

import bot.storage.all_models  # noqa: F401  (registers every table)
from bot.storage.base import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
