"""Language understanding: Rasa-format data, intent classifier, entities, parse API shape.

The public API below is light to import (no model, no encoder); build a parser
with ``intents.factory.build_parser`` and train with ``intents.trainer``.
"""

from intents.api import OUT_OF_SCOPE, Entity, IntentParser, IntentScore, ParseResult
from intents.scope import ScopeDecision, decide
from intents.settings import NluSettings

__all__ = ["OUT_OF_SCOPE", "Entity", "IntentParser", "IntentScore", "NluSettings", "ParseResult", "ScopeDecision",
           "decide"]
