"""Rasa interoperability: a remote Rasa NLU server as backend, and a rasa-sdk action server."""
