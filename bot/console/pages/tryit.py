"""Trainers: "Try it" — ask as an employee of a chosen audience would, and see why the bot answers so.

Shows the intent and its confidence against the router's thresholds, the out-of-scope decision,
the route taken, the knowledge base's ranking with lexical, dense and fused scores, the answer
threshold and the reply. A trial never opens a ticket, acts on an account or records a turn
(see bot.console.pages.tryit_run).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.console.context import ConsoleContext
from bot.console.deps import ConsoleUser, require_role
from bot.console.pages.tryit_run import run_trial

NAV = ("Try it", "/console/tryit", "trainer")
DESCRIPTION = "Ask as an employee would and see why the bot answers that way."
ROLE = "trainer"
EVERYONE = "everyone"
MAX_QUESTION = 1000


def build_router(ctx: ConsoleContext) -> APIRouter:
    """GET /tryit (the form) and POST /tryit (the trial and its explanation)."""
    router = APIRouter()
    services = ctx.services
    trainer = Depends(require_role(ROLE))

    def audiences() -> list[str]:
        kb = services.kb
        kb.bootstrap()
        kb.sync()
        return [EVERYONE, *sorted(kb.audiences())]

    @router.get("/tryit", response_class=HTMLResponse)
    def tryit_form(request: Request, user: ConsoleUser = trainer) -> Response:
        return ctx.render(request, "tryit/tryit.html",
                          {"question": "", "audience": EVERYONE, "audiences": audiences(), "trial": None,
                           "error": None}, user=user)

    @router.post("/tryit", response_class=HTMLResponse)
    async def tryit_run(request: Request, user: ConsoleUser = trainer) -> Response:
        form = await request.form()
        question = str(form.get("question") or "").strip()
        audience = str(form.get("audience") or EVERYONE)
        known = await run_in_threadpool(audiences)
        error, trial = None, None
        if not question:
            error = "'question': type a question to try."
        elif len(question) > MAX_QUESTION:
            error = f"'question' is longer than {MAX_QUESTION} characters."
        elif audience not in known:
            error = "'audience': choose one of the listed audiences."
        else:
            groups = frozenset() if audience == EVERYONE else frozenset({audience})
            trial = await run_in_threadpool(run_trial, services, question, groups, asker=user.email)
        return ctx.render(request, "tryit/tryit.html",
                          {"question": question[:MAX_QUESTION], "audience": audience, "audiences": known,
                           "trial": trial, "error": error}, user=user, status=400 if error else 200)

    return router
