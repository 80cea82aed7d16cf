"""Import every module that defines tables, so ``Base.metadata`` is complete.

Alembic's autogenerate and the schema tests import this module. Each
capability registers its models module here.
"""

import importlib

MODEL_MODULES = [
    "bot.storage.models",
    "knowledge_base.models",
    "integrations.ticketing.models",
    "integrations.directory.models",
    "bot.channels.slack.models",
]

for _name in MODEL_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a capability not built yet
        if not _name.startswith(exc.name or "\0"):
            raise
