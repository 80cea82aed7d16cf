"""The console's page modules: each ``bot/console/pages/<name>.py`` has ``build_router(ctx)`` (routes relative
to /console) and ``NAV = ("Label", "/console/<path>", "<role>")`` ("" = any console role).

Add a module's name here once it imports cleanly; the nav lists pages in this order.
"""

PAGE_MODULES: list[str] = [
    "home",
    "tickets",
    "accounts",
    "health",
    "analytics",
    "gaps", "intents",
    "articles", "tryit",
]
