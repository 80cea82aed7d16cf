"""The Slack channel: bolt listeners, Block Kit rendering, modals, App Home, Socket Mode (see docs/slack.md)."""
