"""HTTP routers mounted by bot.server."""
