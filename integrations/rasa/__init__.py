"""Rasa interoperability: a remote Rasa NLU server as backend, and a rasa-sdk action server."""

from integrations.rasa.client import RasaNluClient, build_rasa_parser, from_rasa

__all__ = ["RasaNluClient", "build_rasa_parser", "from_rasa"]
