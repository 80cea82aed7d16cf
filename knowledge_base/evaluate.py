"""`helpdesk kb eval`: import a corpus into a scratch database and score retrieval and declining."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.encoding import EncoderProvider
from bot.errors import DataError
from bot.storage.session import Database
from bot.vector_cache import VectorFileCache


@dataclass
class QuestionResult:
    """One question's ranking and whether the bot would have answered."""

    question: str
    kind: str
    relevant: list[str]
    ranked: list[str]
    confidence: float
    answered: bool

    @property
    def rank(self) -> int | None:
        for i, path in enumerate(self.ranked, start=1):
            if path in self.relevant:
                return i
        return None


@dataclass
class EvalReport:
    """Every question's result and the import's errors, with retrieval and declining metrics."""

    results: list[QuestionResult] = field(default_factory=list)
    threshold: float = 0.0
    import_errors: list[dict[str, Any]] = field(default_factory=list)
    articles: int = 0

    def _answerable(self) -> list[QuestionResult]:
        return [r for r in self.results if r.kind != "unanswerable"]

    def _unanswerable(self) -> list[QuestionResult]:
        return [r for r in self.results if r.kind == "unanswerable"]

    def metrics(self, threshold: float | None = None) -> dict[str, Any]:
        t = self.threshold if threshold is None else threshold
        ans, una = self._answerable(), self._unanswerable()
        n = max(len(ans), 1)
        return {
            "answerable": len(ans),
            "unanswerable": len(una),
            "hit@1": sum(1 for r in ans if r.rank == 1) / n,
            "hit@5": sum(1 for r in ans if r.rank and r.rank <= 5) / n,
            "mrr": sum(1 / r.rank for r in ans if r.rank) / n,
            "answered_share": sum(1 for r in ans if r.confidence >= t) / n,
            "declined_share": (sum(1 for r in una if r.confidence < t) / len(una)) if una else None,
            "threshold": t,
        }

    def to_dict(self) -> dict[str, Any]:
        m = self.metrics()
        misses = []
        for r in self.results:
            if r.kind == "unanswerable" and r.answered:
                misses.append({"question": r.question, "kind": r.kind, "problem": "answered, should decline",
                               "top": r.ranked[:1], "confidence": round(r.confidence, 3)})
            elif r.kind != "unanswerable" and (r.rank != 1 or not r.answered):
                problem = "declined" if not r.answered else f"relevant page at rank {r.rank or '>5'}"
                if not r.answered and r.rank != 1:
                    problem += f", relevant page at rank {r.rank or '>5'}"
                misses.append({"question": r.question, "kind": r.kind, "problem": problem,
                               "expected": r.relevant[:3], "top": r.ranked[:3], "confidence": round(r.confidence, 3)})
        sweep = [{"threshold": round(t, 2), **{k: v for k, v in self.metrics(t).items()
                                                 if k in ("answered_share", "declined_share")}}
                 for t in [x / 100 for x in range(30, 80, 5)]]
        return {"articles": self.articles, "import_errors": self.import_errors, "metrics": m,
                "misses": misses, "threshold_sweep": sweep,
                "questions": [{"question": r.question, "kind": r.kind, "rank": r.rank, "answered": r.answered,
                               "confidence": round(r.confidence, 4), "top": r.ranked[:5]} for r in self.results]}


def load_questions(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL question file: {"q", "relevant": [paths], "kind"} per line."""
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"cannot be read: {exc.strerror}.", path=str(path)) from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON ({exc.msg}).", path=str(path), line=n) from None
        if not isinstance(row, dict) or not isinstance(row.get("q"), str):
            raise DataError('each line needs a "q" text field.', path=str(path), line=n)
        relevant = row.get("relevant") or []
        kind = row.get("kind") or ("answerable" if relevant else "unanswerable")
        out.append({"q": row["q"], "relevant": [str(r) for r in relevant], "kind": kind})
    return out


KB_TABLES = ("kb_article", "kb_article_version", "kb_chunk", "kb_rating", "kb_curated")


def scratch_database(folder: Path) -> Database:
    """A new SQLite database under ``folder`` holding only the knowledge-base tables."""
    from bot.storage.base import Base
    from knowledge_base import models  # noqa: F401 - registers the tables

    db = Database(f"sqlite:///{folder / 'eval.db'}")
    Base.metadata.create_all(db.engine, tables=[Base.metadata.tables[t] for t in KB_TABLES])
    return db


# Files a corpus carries beside its pages (licence, provenance): never imported as articles.
NOT_PAGES = ("LICENSE", "NOTICE")


def page_folder(pages: Path, scratch: Path) -> Path:
    """``pages`` mirrored under ``scratch`` as links, without the licence/provenance files (``NOT_PAGES``)."""
    if not any(p.stem.upper() in NOT_PAGES for p in pages.rglob("*") if p.is_file()):
        return pages
    root = scratch / "pages"
    for p in sorted(pages.rglob("*")):
        if p.is_file() and p.stem.upper() not in NOT_PAGES:
            link = root / p.relative_to(pages)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(p.resolve())
    return root


def run_eval(pages: Path, questions_file: Path, encoder_provider: EncoderProvider, *,
             threshold: float | None = None, cache_dir: Path | None = None,
             progress: Callable[[str, int, int], None] | None = None) -> EvalReport:
    """Import ``pages`` (minus licence/provenance files) into a throw-away SQLite database and ask every question.

    ``threshold``: the answer threshold to score (None: the calibrated default);
    ``cache_dir``: where to keep a vector cache between runs.
    """
    from knowledge_base.service import KnowledgeBase

    questions = load_questions(questions_file)
    cache = (cache_dir / "kb-vectors.npz") if cache_dir else None
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as tmp:
        db = scratch_database(Path(tmp))
        try:
            kb = KnowledgeBase(db, encoder_provider, threshold=threshold, vector_cache=cache)
            kb.mark_bootstrapped()
            summary = kb.import_dir(page_folder(pages, Path(tmp)), progress=progress)
            report = EvalReport(threshold=kb.threshold, articles=len(kb.index.articles),
                                import_errors=[e.__dict__ for e in summary.errors])
            vectors = VectorFileCache(cache).encode(encoder_provider, [q["q"] for q in questions])
            for i, (q, vec) in enumerate(zip(questions, vectors, strict=True), start=1):
                res = kb.search(q["q"], vec, k=5)
                report.results.append(QuestionResult(q["q"], q["kind"], q["relevant"],
                                                     [h.info.path for h in res.hits], res.confidence,
                                                     res.answerable))
                if progress:
                    progress("questions", i, len(questions))
        finally:
            db.dispose()
    return report


def _balanced(reports: list[EvalReport], t: float) -> float:
    """Mean of answered (answerable) and declined (unanswerable) shares over the pooled questions."""
    pooled = EvalReport(results=[r for rep in reports for r in rep.results], threshold=t)
    m = pooled.metrics(t)
    declined = m["declined_share"] if m["declined_share"] is not None else 1.0
    return (m["answered_share"] + declined) / 2


def pick_threshold(reports: list[EvalReport], grid: list[float] | None = None) -> float:
    """The threshold that best balances answering and declining over ``reports`` pooled (ties: the lower one)."""
    grid = grid or [x / 100 for x in range(20, 91)]
    return max(grid, key=lambda t: (round(_balanced(reports, t), 6), -t))


FIGURES = ("hit@1", "hit@5", "mrr", "answered_share", "declined_share")


def leave_one_corpus_out(reports: dict[str, EvalReport]) -> dict[str, Any]:
    """Each corpus scored at the threshold picked on all the *others*: how a threshold carries over.

    Also the threshold picked on every corpus together (the candidate default) and each
    corpus's figures at it (``at_pooled``).
    """
    held: dict[str, Any] = {}
    for name, rep in reports.items():
        others = [r for n, r in reports.items() if n != name]
        if not others:
            continue
        t = pick_threshold(others)
        held[name] = {"threshold": t, **{k: v for k, v in rep.metrics(t).items() if k in FIGURES}}
    pooled = pick_threshold(list(reports.values()))
    at_pooled = {name: {k: v for k, v in rep.metrics(pooled).items() if k in FIGURES}
                 for name, rep in reports.items()}
    return {"held_out": held, "pooled_threshold": pooled, "at_pooled": at_pooled}


# a corpus folder (``pages/`` + ``questions*.jsonl``), or (name, pages folder, questions file)
Corpus = Path | tuple[str, Path, Path]


def run_corpora(corpora: list[Corpus], encoder_provider: EncoderProvider, *, threshold: float | None = None,
                cache_dir: Path | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Every corpus evaluated, plus the leave-one-corpus-out view.

    The top-level ``metrics`` are those of all questions pooled at ``threshold``
    (the same keys as a single-corpus report).
    """
    reports: dict[str, EvalReport] = {}
    for corpus in corpora:
        if isinstance(corpus, tuple):
            name, pages, questions_file = corpus
        else:
            questions = sorted(corpus.glob("questions*.jsonl"))
            if not (corpus / "pages").is_dir() or not questions:
                raise DataError("needs a pages/ folder and a questions*.jsonl file.", path=str(corpus))
            name, pages, questions_file = corpus.name, corpus / "pages", questions[0]
        reports[name] = run_eval(pages, questions_file, encoder_provider, threshold=threshold,
                                 cache_dir=cache_dir, progress=progress)
    first = next(iter(reports.values()))
    pooled = EvalReport(results=[r for rep in reports.values() for r in rep.results], threshold=first.threshold)
    return {"metrics": pooled.metrics(), "corpora": {n: r.to_dict() for n, r in reports.items()},
            "leave_one_corpus_out": leave_one_corpus_out(reports)}
