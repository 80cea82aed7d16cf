"""Trainers: the gaps inbox — what employees asked that no article answered, and what to do about each topic.

The topics are `helpdesk kb gaps`'s (``bot.kb_gaps``). Actions (answer with an
existing article = a curated link, write a new article, add the questions as
intent examples, dismiss with a reason) are stored by
``knowledge_base.gap_actions`` with who did them, recorded in the console's
action log, and undone from the "Recent actions" table. The list is the one
`kb gaps` prints (``gap_actions.topics``): an acted-on topic leaves it until
new questions join it, a dismissed one until it grew by
``gap_actions.RETURN_RULE``; "Include topics dealt with" shows them too. A
curated link covers the ticked questions only; the unticked stay in the inbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from bot.console import audit
from bot.console.context import ConsoleContext
from bot.console.deps import ConsoleUser, flash, require_role
from bot.console.pages import gaps_view as view
from bot.console.pages.intents_data import editor_for
from bot.errors import DataError
from bot.kb_gaps import DEFAULT_DAYS, GapsCache
from intents.edits import Edit
from knowledge_base import gap_actions as ga

NAV = ("Gaps", "/console/gaps", "trainer")
ROLE = "trainer"
log = logging.getLogger(__name__)


def _inbox_url(days: int, sort: str = "size") -> str:
    query = {k: v for k, v in (("days", days), ("sort", sort)) if v not in (DEFAULT_DAYS, "size")}
    return "/console/gaps" + (f"?{urlencode(query)}" if query else "")


def _text(form: FormData, name: str, limit: int = 2000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def build_router(ctx: ConsoleContext) -> APIRouter:
    """The gaps inbox (all routes relative to /console)."""
    router = APIRouter()
    services = ctx.services
    trainer = Depends(require_role(ROLE))
    gaps = GapsCache()  # the topics exactly as `helpdesk kb gaps` computes them, reused while nothing was added

    @router.get("/gaps", response_class=HTMLResponse)
    def inbox(request: Request, user: ConsoleUser = trainer) -> Response:
        days = view.parse_days(request.query_params.get("days"))
        sort = request.query_params.get("sort", "size")
        sort = sort if sort in view.SORTS else "size"
        top = view.parse_top(request.query_params.get("top"))
        show_all = request.query_params.get("all") == "1"
        services.kb.bootstrap()
        with services.db.session() as s:
            rows = view.inbox_rows(s, gaps.find_gaps(services, s, days), sort, include_handled=show_all)
            actions = view.action_rows(s)
        try:
            intents = list(editor_for(services).view().examples)
        except DataError:
            intents = []
        more = "/console/gaps?" + urlencode({"days": days, "sort": sort, "top": top + view.PAGE_TOPICS}
                                            | ({"all": 1} if show_all else {}))
        return ctx.render(request, "gaps/inbox.html", {
            "rows": rows[:top], "total": sum(1 for r in rows if not r["handled"]), "show_all": show_all,
            "more": more if len(rows) > top else None, "actions": actions, "return_rule": ga.RETURN_RULE,
            "days": days, "sort": sort, "sorts": view.SORTS,
            "day_choices": view.DAY_CHOICES, "articles": view.article_choices(services), "intents": intents,
        }, user=user)

    def act(request: Request, user: ConsoleUser, form: FormData,
            do: Callable[[Any, Any], tuple[ga.KbGapAction, str]]) -> Response:
        """Find the posted topic, run ``do(session, gap)``, log it; flash the outcome; back to the inbox."""
        days = view.parse_days(_text(form, "days", 10))
        key = request.path_params["key"]
        target = _inbox_url(days)
        try:
            with services.db.session() as s:
                gap = ga.find_topic(gaps.find_gaps(services, s, days), key)
                row, message = do(s, gap)
                entry = audit.record(s, actor=user.email, action=f"gap.{row.kind}", target=f"gap-action/{row.id}",
                                     details={"topic": row.label, **row.details})
                row.details = {**row.details, "audit_id": entry.id}
                if row.kind == ga.ARTICLE:
                    target = view.editor_url(gap)
        except DataError as exc:
            flash(request, exc.user_message, "error")
            return RedirectResponse(_inbox_url(days), status_code=303)
        flash(request, message)
        return RedirectResponse(target, status_code=303)

    async def handle(request: Request, user: ConsoleUser,
                     do: Callable[[FormData], Callable[[Any, Any], tuple[ga.KbGapAction, str]]]) -> Response:
        form = await request.form()
        return await run_in_threadpool(act, request, user, form, do(form))

    @router.post("/gaps/{key}/curate")
    async def curate(key: str, request: Request, user: ConsoleUser = trainer) -> Response:
        def do(form: FormData) -> Callable[[Any, Any], tuple[ga.KbGapAction, str]]:
            def run(s: Any, gap: Any) -> tuple[ga.KbGapAction, str]:
                article = _text(form, "article_id", 300)
                if not article:
                    raise DataError("Pick the article that answers these questions (the article field).")
                keys = [k for k in form.getlist("question") if isinstance(k, str)]
                picked = view.picked_questions(gap, keys)
                if not picked:
                    raise DataError("Tick at least one question for the article to answer.")
                row = ga.curate(s, gap, article_id=article, created_by=user.email, questions=picked)
                left = len(ga.unique_questions(gap)) - len(picked)
                rest = f" The {left} unticked question(s) stay in the inbox." if left else ""
                return row, (f"Paraphrases of these {len(picked)} question(s) now get article {article}, "
                             f"marked as curated.{rest}")
            return run
        return await handle(request, user, do)

    @router.post("/gaps/{key}/article")
    async def new_article(key: str, request: Request, user: ConsoleUser = trainer) -> Response:
        def do(form: FormData) -> Callable[[Any, Any], tuple[ga.KbGapAction, str]]:
            def run(s: Any, gap: Any) -> tuple[ga.KbGapAction, str]:
                row = ga.record_action(s, gap, kind=ga.ARTICLE, created_by=user.email,
                                       details={"title": view.suggested_title(gap)})
                return row, "The editor is filled with the topic's questions; the topic left the inbox."
            return run
        return await handle(request, user, do)

    @router.post("/gaps/{key}/examples")
    async def examples(key: str, request: Request, user: ConsoleUser = trainer) -> Response:
        def do(form: FormData) -> Callable[[Any, Any], tuple[ga.KbGapAction, str]]:
            def run(s: Any, gap: Any) -> tuple[ga.KbGapAction, str]:
                intent = _text(form, "intent", 100)
                offered = set(ga.unique_questions(gap))
                picked = [q for q in form.getlist("question") if isinstance(q, str) and q in offered]
                if not intent:
                    raise DataError("Pick the intent these questions belong to (the intent field).")
                if not picked:
                    raise DataError("Tick at least one question to add as an example.")
                editor = editor_for(services)
                edit = editor.add(intent, picked)
                try:
                    row = ga.record_action(s, gap, kind=ga.EXAMPLES, created_by=user.email,
                                           details={"intent": intent, "examples": edit.examples,
                                                    "edit": edit.to_dict()})
                    s.flush()
                except Exception:
                    editor.undo(edit)  # nothing half-done: the files go back as they were
                    raise
                return row, (f"Added {len(edit.examples)} example(s) to intent {intent}; retrain on the Intents page "
                             "to use them.")
            return run
        return await handle(request, user, do)

    @router.post("/gaps/{key}/dismiss")
    async def dismiss(key: str, request: Request, user: ConsoleUser = trainer) -> Response:
        def do(form: FormData) -> Callable[[Any, Any], tuple[ga.KbGapAction, str]]:
            def run(s: Any, gap: Any) -> tuple[ga.KbGapAction, str]:
                row = ga.dismiss(s, gap, reason=_text(form, "reason", ga.MAX_REASON + 100), created_by=user.email)
                return row, f"Dismissed: the topic stays hidden until {ga.RETURN_RULE} join it."
            return run
        return await handle(request, user, do)

    def _undo(request: Request, user: ConsoleUser, action_id: int, days: int) -> Response:
        try:
            with services.db.session() as s:
                row = ga.undo_action(s, action_id, undone_by=user.email)
                left = ""
                if row.kind == ga.EXAMPLES:  # the intents page's undo: only the lines still as written go
                    d = row.details
                    edit = Edit.from_dict(d["edit"]) if "edit" in d else \
                        Edit.added_examples(str(d.get("intent")), list(d.get("examples", [])))
                    kept = editor_for(services).undo(edit, partial=True).left
                    left = f" {len(kept)} example(s) changed since were left as they are." if kept else ""
                if row.details.get("audit_id"):
                    audit.mark_undone(s, int(row.details["audit_id"]), by=user.email)
                audit.record(s, actor=user.email, action="gap.undo", target=f"gap-action/{row.id}",
                             details={"topic": row.label, "kind": row.kind})
                message = f"Undone: {ga.describe(row)}. The topic is back in the inbox.{left}"
        except DataError as exc:
            flash(request, exc.user_message, "error")
            return RedirectResponse(_inbox_url(days), status_code=303)
        flash(request, message)
        return RedirectResponse(_inbox_url(days), status_code=303)

    @router.post("/gaps/actions/{action_id}/undo")
    async def undo(action_id: int, request: Request, user: ConsoleUser = trainer) -> Response:
        form = await request.form()
        return await run_in_threadpool(_undo, request, user, action_id, view.parse_days(_text(form, "days", 10)))

    return router
