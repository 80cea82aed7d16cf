"""Language understanding: Rasa-format data, intent classifier, entities, parse API shape.

The public API below is light to import (no model, no encoder); a parser is an
``intents.parser.BuiltinParser`` over ``intents.factory.load_or_train``'s model;
train with ``intents.trainer``.
"""

from intents.api import OUT_OF_SCOPE, Entity, IntentParser, IntentScore, ParseResult
from intents.scope import ScopeDecision, decide
from intents.settings import NluSettings

__all__ = ["OUT_OF_SCOPE", "Entity", "IntentParser", "IntentScore", "NluSettings", "ParseResult", "ScopeDecision",
           "decide"]
