"""Trainers: intents and their examples (add, move, remove) in the Rasa files, validation problems with file:line,
recent edits with Undo, retrain in the background with progress, and the latest evaluation report with its plots.

Edits go through ``intents.editing`` (line-by-line, atomic, read back) and are logged with what they wrote and
deleted (``intents_edits``), so each can be undone once; retraining through ``training.retrain`` (a background
thread; the saved model is swapped into the running parser). Neither an edit nor an undo retrains.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from bot.console import audit
from bot.console.context import ConsoleContext
from bot.console.deps import ConsoleUser, flash, require_role
from bot.console.pages import intents_data as data
from bot.console.pages import intents_edits as edits
from bot.errors import DataError
from intents.edits import Edit
from training.report_files import plot_file

NAV = ("Intents", "/console/intents", "trainer")
ROLE = "trainer"
MAX_ADD = 20  # examples per submission
log = logging.getLogger(__name__)


def _intent_url(name: str) -> str:
    return "/console/intents/intent/" + quote(name, safe="")


def _text(form: FormData, name: str, limit: int = 1000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _back(form: FormData) -> str:
    """Where an undo returns: the intents page it was posted from (never another site or area)."""
    back = _text(form, "back", 300)
    return back if back.startswith("/console/intents") and "//" not in back and "\\" not in back \
        else "/console/intents"


def _line(form: FormData) -> int:
    try:
        return int(_text(form, "line", 10))
    except ValueError:
        raise DataError("The example's line is missing; reload the page.") from None


def build_router(ctx: ConsoleContext) -> APIRouter:
    """The intents pages (all routes relative to /console)."""
    router = APIRouter()
    services = ctx.services
    trainer = Depends(require_role(ROLE))
    retrainer = data.make_retrainer(services)
    builtin = services.settings.nlu.backend == "builtin"

    @router.get("/intents", response_class=HTMLResponse)
    def overview(request: Request, user: ConsoleUser = trainer) -> Response:
        view = data.editor_for(services).view()
        try:
            status = data.status_of(services)
        except DataError as exc:
            status = {"latest": None, "stale": False, "error": exc.user_message}
        with services.db.session() as s:
            recent = edits.edit_rows(s)
        return ctx.render(request, "intents/overview.html", {
            "intents": data.intent_rows(view), "problems": data.problem_rows(view), "status": status,
            "retrain": retrainer.status().to_dict(), "builtin": builtin,
            "examples": sum(len(v) for v in view.examples.values()), "edits": recent, "back": "/console/intents",
        }, user=user)

    @router.get("/intents/intent/{name}", response_class=HTMLResponse)
    def intent_page(name: str, request: Request, user: ConsoleUser = trainer) -> Response:
        view = data.editor_for(services).view()
        if name not in view.examples:
            flash(request, f"There is no intent '{name[:100]}'.", "error")
            return RedirectResponse("/console/intents", status_code=303)
        problems = [p for p in data.problem_rows(view) if f"'{name}'" in p["message"]]
        with services.db.session() as s:
            recent = edits.edit_rows(s, name)
        return ctx.render(request, "intents/intent.html", {
            "name": name, "examples": data.example_rows(view, name), "others": [i for i in view.examples if i != name],
            "problems": problems, "edits": recent, "back": _intent_url(name),
        }, user=user)

    def edit(request: Request, user: ConsoleUser, name: str, form: FormData,
             do: Callable[[], tuple[Edit, str, dict[str, object]]]) -> Response:
        """Run an edit; log it (who, what, the lines written and deleted); flash the outcome; back to the page."""
        try:
            change, message, details = do()
            if change.added or change.removed:
                try:
                    with services.db.session() as s:
                        edits.record_edit(s, actor=user.email, intent=name, edit=change, details=details)
                except Exception:
                    data.editor_for(services).undo(change)  # an edit nobody could undo is not kept
                    raise
        except DataError as exc:
            flash(request, exc.user_message, "error")
        else:
            flash(request, message)
        return RedirectResponse(_intent_url(name), status_code=303)

    @router.post("/intents/intent/{name}/add")
    async def add(name: str, request: Request, user: ConsoleUser = trainer) -> Response:
        form = await request.form()

        def do() -> tuple[Edit, str, dict[str, object]]:
            texts = [t for t in _text(form, "examples", 20_000).splitlines() if t.strip()]
            if not texts:
                raise DataError("Type an example (one per line) in the examples field.")
            if len(texts) > MAX_ADD:
                raise DataError(f"Add at most {MAX_ADD} examples at a time.")
            change = data.editor_for(services).add(name, texts)
            written = change.examples
            skipped = len(texts) - len(written)
            note = f" ({skipped} already there)" if skipped else ""
            return change, f"Added {len(written)} example(s){note}.", {"examples": written}
        return await run_in_threadpool(edit, request, user, name, form, do)

    @router.post("/intents/intent/{name}/remove")
    async def remove(name: str, request: Request, user: ConsoleUser = trainer) -> Response:
        form = await request.form()

        def do() -> tuple[Edit, str, dict[str, object]]:
            text, file = _text(form, "text"), _text(form, "file", 300)
            change = data.editor_for(services).remove(file, _line(form), text)
            return change, f"Removed “{text}”.", {"example": change.removed[0].example, "file": file}
        return await run_in_threadpool(edit, request, user, name, form, do)

    @router.post("/intents/intent/{name}/move")
    async def move(name: str, request: Request, user: ConsoleUser = trainer) -> Response:
        form = await request.form()

        def do() -> tuple[Edit, str, dict[str, object]]:
            text, file, to = _text(form, "text"), _text(form, "file", 300), _text(form, "to", 100)
            change = data.editor_for(services).move(file, _line(form), text, to)
            return change, f"Moved “{text}” to intent {to}.", {"example": text, "to": to}
        return await run_in_threadpool(edit, request, user, name, form, do)

    def _undo(request: Request, user: ConsoleUser, entry_id: int, back: str) -> Response:
        try:
            with services.db.session() as s:
                entry, _ = edits.undo_edit(s, data.editor_for(services), entry_id, by=user.email)
                what = edits.describe_entry(entry)
        except DataError as exc:
            flash(request, exc.user_message, "error")
        else:
            flash(request, f"Undone: {what}. Retrain on the Intents page to use the change.")
        return RedirectResponse(back, status_code=303)

    @router.post("/intents/edits/{entry_id}/undo")
    async def undo(entry_id: int, request: Request, user: ConsoleUser = trainer) -> Response:
        form = await request.form()
        return await run_in_threadpool(_undo, request, user, entry_id, _back(form))

    @router.post("/intents/retrain")
    def retrain(request: Request, user: ConsoleUser = trainer) -> Response:
        if not builtin:
            flash(request, "The intent model is served by a remote Rasa server; train it there.", "error")
        elif retrainer.start(user.email):
            with services.db.session() as s:
                audit.record(s, actor=user.email, action="intents.retrain", target="nlu-model")
            flash(request, "Retraining started.")
        else:
            flash(request, "A retraining is already running.", "info")
        return RedirectResponse("/console/intents", status_code=303)

    @router.get("/intents/retrain/status")
    def retrain_status(user: ConsoleUser = trainer) -> Response:
        return JSONResponse(retrainer.status().to_dict(), headers={**ctx.headers, "Cache-Control": "no-store"})

    @router.get("/intents/report", response_class=HTMLResponse)
    def report(request: Request, user: ConsoleUser = trainer) -> Response:
        try:
            rep = data.latest_report(services)
            error = None
        except DataError as exc:
            rep, error = None, exc.user_message
        folder = data.report_dir(services)
        plots = [{"file": f, "heading": h, "alt": a} for f, h, a in data.PLOTS if plot_file(folder, f)]
        return ctx.render(request, "intents/report.html", {"report": rep, "plots": plots, "error": error},
                          user=user)

    @router.get("/intents/report/{file}")
    def report_plot(file: str, user: ConsoleUser = trainer) -> Response:
        path = plot_file(data.report_dir(services), file)
        if path is None:
            return Response("Not found", status_code=404, headers=ctx.headers)
        return FileResponse(path, media_type="image/png",
                            headers={**ctx.headers, "Cache-Control": "private, no-cache"})

    return router
