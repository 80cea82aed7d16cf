"""Trainers: the articles list, the editor (draft / publish), history and diffs, retire / restore.

Every change goes through knowledge_base.drafts — the same import path as ``helpdesk kb import`` —
so a publish is a new version, indexed at once; the editor composes the exact file text that
``helpdesk kb export`` writes; validation is ``kb import``'s parser plus ``kb lint``'s rules.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from bot.console import audit
from bot.console.context import ConsoleContext
from bot.console.deps import ConsoleUser, flash, require_role
from bot.console.pages import articles_editor as editor
from bot.console.pages.articles_data import (
    STATUSES,
    article_rows,
    diff_versions,
    filter_rows,
    problems_of,
    render_markdown,
)
from bot.errors import DataError
from knowledge_base import catalog, drafts
from knowledge_base.article_file import normalise_body

NAV = ("Articles", "/console/articles", "trainer")
DESCRIPTION = "Write, check, publish and retire knowledge articles; compare versions."
ROLE = "trainer"
MAX_BODY = 200_000
log = logging.getLogger(__name__)


def _edit_url(article_id: str) -> str:
    return "/console/articles/edit/" + quote(article_id)


def build_router(ctx: ConsoleContext) -> APIRouter:
    """The articles pages (all relative to /console)."""
    router = APIRouter()
    services = ctx.services
    trainer = Depends(require_role(ROLE))

    def kb() -> Any:
        knowledge = services.kb
        knowledge.bootstrap()
        return knowledge

    def show_editor(request: Request, user: ConsoleUser, editing: editor.Editing, status: int = 200) -> Response:
        editing.problems = _problems(editing)
        preview = Markup(render_markdown(normalise_body(editing.form.body)))  # noqa: S704 - raw HTML is escaped
        return ctx.render(request, "articles/editor.html", {"e": editing, "v": editing.values(), "preview": preview},
                          user=user, status=status)

    def _problems(editing: editor.Editing) -> list[dict[str, Any]]:
        try:
            return problems_of(editor.check(editing, kb().current_articles(), services.settings.kb.article_base_url))
        except DataError as exc:
            return [{"kind": "error", "line": exc.line, "rule": None, "text": exc.user_message}]

    @router.get("/articles", response_class=HTMLResponse)
    def article_list(request: Request, user: ConsoleUser = trainer) -> Response:
        q = request.query_params.get("q", "")[:200]
        state = request.query_params.get("state", "")
        state = state if state in STATUSES else ""
        kb()
        with services.db.session() as s:
            rows = article_rows(s)
        shown = filter_rows(rows, q, state)
        return ctx.render(request, "articles/list.html",
                          {"rows": shown, "total": len(rows), "q": q, "state": state, "states": STATUSES},
                          user=user)

    @router.get("/articles/new", response_class=HTMLResponse)
    def article_new(request: Request, user: ConsoleUser = trainer) -> Response:
        questions = request.query_params.getlist("question")
        return show_editor(request, user, editor.new(questions, request.query_params.get("title", "")[:200]))

    @router.get("/articles/edit/{article_id:path}", response_class=HTMLResponse)
    def article_edit(article_id: str, request: Request, user: ConsoleUser = trainer) -> Response:
        kb()
        try:
            editing = editor.load(services.db, article_id)
        except DataError:
            return ctx.render(request, "articles/missing.html", {"article_id": article_id[:300]}, user=user,
                              status=404)
        return show_editor(request, user, editing)

    async def form_of(request: Request) -> FormData:
        data = await request.form()
        body = data.get("body", "")
        if isinstance(body, str) and len(body) > MAX_BODY:
            raise DataError(f"'body' is longer than {MAX_BODY} characters.")
        return data

    @router.post("/articles/preview")
    async def article_preview(request: Request, user: ConsoleUser = trainer) -> Response:
        try:
            data = await form_of(request)
            editing = await run_in_threadpool(_posted, data)
        except DataError as exc:
            return JSONResponse({"html": "", "problems": [{"kind": "error", "line": exc.line, "rule": None,
                                                          "text": exc.user_message}]}, headers=ctx.headers)
        html = render_markdown(normalise_body(editing.form.body))
        problems = await run_in_threadpool(_problems, editing)
        return JSONResponse({"html": html, "problems": problems}, headers=ctx.headers)

    def _posted(data: FormData) -> editor.Editing:
        kb()
        return editor.from_post(services.db, data)

    @router.post("/articles/save")
    async def article_save(request: Request, user: ConsoleUser = trainer) -> Response:
        data = await form_of(request)
        action = str(data.get("action") or "check")
        try:
            editing = await run_in_threadpool(_posted, data)
        except DataError as exc:
            failed = editor.Editing(None, str(data.get("path") or "")[:500], None, None,
                                    editor.form_from_post(data), error=exc.user_message)
            return show_editor(request, user, failed, status=400)
        force = action == "publish-force"
        return await run_in_threadpool(_save, request, user, editing, "publish" if force else action, force)

    def _save(request: Request, user: ConsoleUser, editing: editor.Editing, action: str, force: bool) -> Response:
        aid = editing.article_id or ""
        text = editing.text()
        if action == "discard":
            with services.db.session() as s:
                gone = drafts.discard_draft(s, aid)
                audit.record(s, actor=user.email, action="article.discard_draft", target=aid)
            flash(request, "Draft discarded." if gone else "There was no draft to discard.")
            return RedirectResponse(_edit_url(aid) if editing.base_version else "/console/articles", 303)
        if action == "draft":
            with services.db.session() as s:
                drafts.save_draft(s, article_id=aid, path=editing.path, text=text, actor=user.email,
                                  base_version=editing.base_version)
                audit.record(s, actor=user.email, action="article.save_draft", target=aid,
                             details={"base_version": editing.base_version})
            flash(request, "Draft saved. Employees still get the published version.")
            return RedirectResponse(_edit_url(aid), 303)
        if action == "publish":
            try:
                summary = drafts.publish(kb(), path=editing.path, text=text, base_version=editing.base_version,
                                         force=force)
            except DataError as exc:
                with services.db.session() as s:  # nothing lost: the text waits as a draft
                    drafts.save_draft(s, article_id=aid, path=editing.path, text=text, actor=user.email,
                                      base_version=editing.base_version)
                editing.error = exc.user_message + " Your text is kept as a draft."
                return show_editor(request, user, editing, status=400)
            with services.db.session() as s:
                row = catalog.show_article(s, aid)
                audit.record(s, actor=user.email, action="article.publish", target=aid,
                             details={"version": row["version"], "changed": bool(summary.changed)})
            flash(request, f"Published as version {row['version']}: the bot answers from it now."
                  if summary.changed else "Nothing changed: the published version already has this text.")
            return RedirectResponse(_edit_url(aid), 303)
        return show_editor(request, user, editing)

    @router.post("/articles/state/{article_id:path}")
    async def article_state(article_id: str, request: Request, user: ConsoleUser = trainer) -> Response:
        action = str((await request.form()).get("action") or "")
        return await run_in_threadpool(_state, request, user, article_id, action)

    def _state(request: Request, user: ConsoleUser, article_id: str, action: str) -> Response:
        actions = {"retire": drafts.retire_article, "restore": drafts.restore_article, "unpublish": drafts.unpublish}
        run = actions.get(action)
        if run is None:
            flash(request, "Unknown action.", "error")
            return RedirectResponse(_edit_url(article_id), 303)
        try:
            run(kb(), article_id)
        except DataError as exc:
            flash(request, exc.user_message, "error")
            return RedirectResponse(_edit_url(article_id), 303)
        with services.db.session() as s:
            audit.record(s, actor=user.email, action=f"article.{action}", target=article_id)
        done = {"retire": "Retired: employees no longer get this article.",
                "restore": "Restored: employees get this article again.",
                "unpublish": "Unpublished: it is a draft now and employees no longer get it."}
        flash(request, done[action])
        return RedirectResponse(_edit_url(article_id), 303)

    @router.get("/articles/history/{article_id:path}", response_class=HTMLResponse)
    def article_history(article_id: str, request: Request, user: ConsoleUser = trainer) -> Response:
        try:
            with services.db.session() as s:
                versions = catalog.article_history(s, article_id)
                art = catalog.show_article(s, article_id)
        except DataError:
            return ctx.render(request, "articles/missing.html", {"article_id": article_id[:300]}, user=user,
                              status=404)
        return ctx.render(request, "articles/history.html", {"a": art, "versions": list(reversed(versions))},
                          user=user)

    @router.get("/articles/diff/{article_id:path}", response_class=HTMLResponse)
    def article_diff(article_id: str, request: Request, user: ConsoleUser = trainer) -> Response:
        a_raw, b_raw = request.query_params.get("a", ""), request.query_params.get("b", "")
        try:
            with services.db.session() as s:
                art = catalog.show_article(s, article_id)
                a = int(a_raw) if a_raw.isdigit() else max(1, art["version"] - 1)
                b = int(b_raw) if b_raw.isdigit() else art["version"]
                old = catalog.show_article(s, article_id, a)["text"]
                new = catalog.show_article(s, article_id, b)["text"]
                versions = catalog.article_history(s, article_id)
        except DataError as exc:
            return ctx.render(request, "articles/missing.html", {"article_id": article_id[:300],
                                                                  "error": exc.user_message}, user=user, status=404)
        return ctx.render(request, "articles/diff.html",
                          {"a": art, "diff": diff_versions(a, old, b, new), "versions": versions}, user=user)

    return router
