"""The helpdesk bot application: configuration, storage, engine, channels, CLI and server."""

__version__ = "0.1.0"
