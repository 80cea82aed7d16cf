"""Conversation flows: each handles a family of intents and its buttons."""
