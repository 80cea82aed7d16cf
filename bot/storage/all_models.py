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
    "bot.channels.slack.installations_models",
    "bot.channels.slack.assistant_models",
    "bot.channels.slack.triage_models",
    "bot.console.models",
    "knowledge_base.gap_actions",
]

for _name in MODEL_MODULES:
    importlib.import_module(_name)
