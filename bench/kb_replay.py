"""Replay benchmark: does the knowledge base get better with use, on paraphrases nobody rated or curated?

Run: ``nohup .venv/bin/python bench/kb_replay.py [--corpora kb-18f,kb-posthog] [--days 60] > replay.log &``

Per corpus (``../shared/benchmarks/<name>``: ``pages/`` + ``questions.dev.jsonl``):

1. every dev question gets template/synonym paraphrases (``bench/kb_paraphrase.py``), split
   per question into a *use* set (the question and half of its paraphrases) and HELD-OUT ones;
2. the held-out set is asked once (before);
3. over ``--days`` simulated days (a fake clock: ratings age and decay) employees ask the use
   set; a correct answer is sometimes rated "Helpful", a wrong one (or an answer to a question
   no article answers) often "Not helpful"; one grumpy employee rates everything "Not helpful";
4. every ``--review-every`` days trainers open `kb gaps` (the product's gap mining and
   inbox) and deal with the top topics: a topic whose questions have an article gets it
   curated (the gold label stands in for the trainer's judgement), the others are dismissed;
5. the held-out set is asked again (after), and once more after ``--idle`` quiet days (decay);
6. the cap: on a fresh state one employee presses "Not helpful" on the correct article of
   every question again and again; the held-out paraphrases must keep it first. The same by
   several different employees shows that ratings do demote.

Corpus imports and vectors are cached under ``$TMPDIR/helpdesk-kb-replay`` so a re-run takes minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.encoding import DIM, EncoderProvider, TextEncoder  # noqa: E402 - after the sys.path line
from bot.storage.base import Base  # noqa: E402
from bot.storage.session import Database  # noqa: E402
from bot.vector_cache import VectorFileCache, text_key  # noqa: E402
from knowledge_base import curated as curated_answers  # noqa: E402
from knowledge_base import feedback, gap_actions  # noqa: E402
from knowledge_base.curated import CuratedMatcher  # noqa: E402
from knowledge_base.evaluate import KB_TABLES, load_questions  # noqa: E402
from knowledge_base.feedback import RatingFeedback  # noqa: E402
from knowledge_base.gaps import DECLINED, AnsweredQuestion, days_ago, find_gaps  # noqa: E402
from knowledge_base.models import KbCurated, KbRating  # noqa: E402
from knowledge_base.ratings import record_rating  # noqa: E402
from knowledge_base.search import SearchResult  # noqa: E402
from knowledge_base.service import KnowledgeBase  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from kb_paraphrase import paraphrases  # noqa: E402

BENCH = ROOT.parent / "shared" / "benchmarks"
CACHE = Path(tempfile.gettempdir()) / "helpdesk-kb-replay"
TRAINER = "trainer@example.com"


@dataclass(frozen=True)
class Item:
    """One question an employee asks: its text, the dev question it paraphrases and that one's gold articles."""

    text: str
    source: int
    gold: frozenset[str]  # article ids; empty: no article answers it

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


class CachedEncoder:
    """The encoder behind a vector file cache (paraphrases and rated questions are encoded once per run)."""

    def __init__(self, inner: EncoderProvider, cache: VectorFileCache) -> None:
        self.inner, self.cache = inner, cache
        self.dim = DIM

    def encode(self, texts: Any, **_: Any) -> np.ndarray:
        texts = list(texts)
        missing = list(dict.fromkeys(t for t in texts if text_key(t) not in self.cache))
        if missing:
            for text, vector in zip(missing, self.inner().encode(missing), strict=True):
                self.cache.put(text_key(text), vector)
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.vstack([self.cache.items[text_key(t)] for t in texts]).astype(np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def build_sets(questions: list[dict[str, Any]], id_of_path: dict[str, str], *, per_question: int = 6,
               held_out: int = 3, seed: int = 7) -> tuple[list[Item], list[Item]]:
    """(use, held-out): each dev question and ``per_question - held_out`` paraphrases are used, the rest held out."""
    rng = random.Random(seed)
    use: list[Item] = []
    held: list[Item] = []
    for n, q in enumerate(questions):
        gold = frozenset(id_of_path[p] for p in q["relevant"] if p in id_of_path)
        if q["relevant"] and not gold:
            continue  # its pages are not in this corpus
        variants = paraphrases(q["q"], per_question, rng)
        use += [Item(t, n, gold) for t in [q["q"], *variants[: per_question - held_out]]]
        held += [Item(t, n, gold) for t in variants[per_question - held_out:]]
    return use, held


def scratch_kb(folder: Path, encoder: TextEncoder, *, cache: Path | None = None) -> tuple[KnowledgeBase, Database]:
    """A knowledge base on a new SQLite file with the tables ratings, curation and gap actions need."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "replay.db").unlink(missing_ok=True)
    db = Database(f"sqlite:///{folder / 'replay.db'}")
    tables = [Base.metadata.tables[t] for t in (*KB_TABLES, gap_actions.KbGapAction.__tablename__)]
    Base.metadata.create_all(db.engine, tables=tables)
    kb = KnowledgeBase(db, lambda: encoder, vector_cache=cache)
    kb.mark_bootstrapped()
    return kb, db


class Replay:
    """Employees asking and rating, trainers curating, all on one knowledge base and a fake clock."""

    def __init__(self, kb: KnowledgeBase, db: Database, encoder: TextEncoder, *, seed: int = 11,
                 start: dt.datetime | None = None) -> None:
        self.kb, self.db, self.encoder = kb, db, encoder
        self.rng = random.Random(seed)
        self.now = start or days_ago(0)
        self.asked: list[AnsweredQuestion] = []
        self.items: dict[str, Item] = {}
        self.log: list[dict[str, Any]] = []
        self.reset()

    def reset(self) -> None:
        """Forget every rating, curated answer and gaps action (a fresh start on the same articles)."""
        with self.db.session() as s:
            for table in (KbRating, KbCurated, gap_actions.KbGapAction):
                s.execute(delete(table))
        self.kb.feedback = RatingFeedback(self.kb.encoder_provider)
        self.kb.feedback.clock = lambda: self.now
        self.kb.curated = CuratedMatcher(self.kb.encoder_provider)
        self.asked = []

    def ask(self, item: Item) -> SearchResult:
        self.items.setdefault(item.text, item)
        return self.kb.search(item.text, self.encoder.encode_one(item.text), k=5)

    def first_is_gold(self, item: Item) -> bool:
        top = self.ask(item).top
        return top is not None and top.info.id in item.gold

    def rate(self, item: Item, article_id: str, helpful: bool, user: str) -> None:
        with self.db.session() as s:
            row = record_rating(s, question=item.text, article_id=article_id, helpful=helpful, user_key=user)
            row.created_at = self.now

    def employee_turn(self, item: Item, user: str) -> None:
        """Ask; rate as a person would: correct answers sometimes helpful, wrong ones often not."""
        res = self.ask(item)
        if not res.answerable or res.top is None:
            self.asked.append(AnsweredQuestion(item.text, DECLINED, self.now,
                                               res.top.info.id if res.top else None, res.confidence,
                                               asker=user))
            return
        top = res.top.info.id
        correct = top in item.gold
        if user == "grumpy":
            self.rate(item, top, False, user)
        elif correct and self.rng.random() < 0.4:
            self.rate(item, top, True, user)
        elif not correct and self.rng.random() < 0.6:
            self.rate(item, top, False, user)

    def review(self, topics: int, window_days: int = 30) -> None:
        """Trainers open `kb gaps` and deal with the top topics still in the inbox."""
        since = self.now - dt.timedelta(days=window_days)
        with self.db.session() as s:
            gaps = find_gaps(s, self.asked, lambda: self.encoder, kb=self.kb, since=since)
            for topic in gap_actions.topics(s, gaps)[:topics]:
                votes = Counter(a for q in topic.gap.questions if q.text in self.items
                                for a in self.items[q.text].gold)
                if not votes:
                    gap_actions.dismiss(s, topic.gap, reason="no article answers this", created_by=TRAINER)
                    self.log.append({"day": self.now.isoformat(), "dismissed": topic.gap.label[:80]})
                    continue
                # the trainer picks the right article: the gap's nearest one when it is right, else the gold one
                near = topic.gap.nearest_article
                pick = near if near is not None and near in votes else votes.most_common(1)[0][0]
                gap_actions.curate(s, topic.gap, article_id=pick, created_by=TRAINER)
                self.log.append({"day": self.now.isoformat(), "curated": topic.gap.label[:80], "article": pick,
                                 "questions": topic.gap.count})

    def simulate(self, use: list[Item], *, days: int, asks_per_day: int, review_every: int, topics: int,
                 users: int = 40) -> None:
        for day in range(1, days + 1):
            self.now += dt.timedelta(days=1)
            for _ in range(asks_per_day):
                user = "grumpy" if self.rng.random() < 0.05 else f"u{self.rng.randrange(users):02d}"
                self.employee_turn(self.rng.choice(use), user)
            if day % review_every == 0:
                self.review(topics)

    def measure(self, items: list[Item]) -> dict[str, Any]:
        """hit@1, hit@5, answered (answerable), answered correctly, declined (unanswerable), curated share."""
        answerable = [i for i in items if i.answerable]
        other = [i for i in items if not i.answerable]
        hit1 = hit5 = answered = right = curated = declined = 0
        not_declined: list[dict[str, Any]] = []  # unanswerable yet answered: by what (curated or ranked)
        for item in items:
            res = self.ask(item)
            ids = [h.info.id for h in res.hits]
            curated += res.curated is not None
            if item.answerable:
                hit1 += bool(ids) and ids[0] in item.gold
                hit5 += any(a in item.gold for a in ids[:5])
                answered += res.answerable
                right += res.answerable and bool(ids) and ids[0] in item.gold
            else:
                declined += not res.answerable
                if res.answerable:
                    not_declined.append({"q": item.text, "article": ids[0] if ids else None,
                                         "curated": res.curated is not None})
        n, m = max(len(answerable), 1), len(other)
        return {"answerable": len(answerable), "unanswerable": m, "hit@1": round(hit1 / n, 3),
                "hit@5": round(hit5 / n, 3), "answered": round(answered / n, 3),
                "answered_correctly": round(right / n, 3),
                "declined": round(declined / m, 3) if m else None, "curated": round(curated / len(items), 3),
                "not_declined": not_declined}

    def cap_check(self, use: list[Item], held: list[Item], *, presses: int = 5, crowd: int = 6) -> dict[str, Any]:
        """One employee's repeated "Not helpful" on the right answers cannot bury them; many people's can."""
        self.reset()
        kept = [i for i in held if i.answerable and self.first_is_gold(i)]
        sources = {i.source for i in kept}
        targets = [i for i in use if i.source in sources]

        def bury(users: list[str]) -> dict[str, Any]:
            for user in users:
                for item in targets:
                    res = self.ask(item)
                    if res.top is not None and res.top.info.id in item.gold:
                        for _ in range(presses):
                            self.rate(item, res.top.info.id, False, user)
            still = sum(1 for i in kept if self.first_is_gold(i))
            moves = [h.feedback for i in kept for h in self.ask(i).hits if h.info.id in i.gold]
            return {"still_first": round(still / max(len(kept), 1), 3),
                    "largest_demotion": round(min(moves, default=0.0), 3)}

        one = bury(["mallory"])
        many = bury([f"critic{n}" for n in range(crowd)])
        return {"held_out_first_before": len(kept), "rated_questions": len(targets), "presses_each": presses,
                "one_person": one, f"{crowd}_more_people": many}


def run_corpus(name: str, encoder: CachedEncoder, args: argparse.Namespace) -> dict[str, Any]:
    folder = BENCH / name
    kb, db = scratch_kb(CACHE / name, encoder, cache=CACHE / "kb-vectors.npz")
    try:
        summary = kb.import_dir(folder / "pages")
        id_of = {info.path: aid for aid, info in kb.index.articles.items()}
        use, held = build_sets(load_questions(folder / "questions.dev.jsonl"), id_of,
                               per_question=args.per_question, held_out=args.held_out, seed=args.seed)
        encoder.encode([i.text for i in use + held])  # once, into the cache
        encoder.cache.save()
        replay = Replay(kb, db, encoder, seed=args.seed)
        before = replay.measure(held)
        asks = max(1, round(len(use) * args.asks_per_item / args.days))
        replay.simulate(use, days=args.days, asks_per_day=asks, review_every=args.review_every, topics=args.topics)
        after = replay.measure(held)
        seen = replay.measure(use)
        replay.now += dt.timedelta(days=args.idle)
        idle = replay.measure(held)
        with db.session() as s:
            ratings = s.query(KbRating).count()
            curated = s.query(KbCurated).count()
        cap = replay.cap_check(use, held)
        return {"articles": len(kb.index.articles), "import_errors": len(summary.errors),
                "use_items": len(use), "held_out_items": len(held), "asks": asks * args.days,
                "ratings": ratings, "curated_entries": curated,
                "trainer_actions": replay.log, "held_out_before": before, "held_out_after": after,
                f"held_out_after_{args.idle}_idle_days": idle, "use_set_after": seen, "cap": cap}
    finally:
        db.dispose()


def _line(label: str, m: dict[str, Any]) -> str:
    dec = "n/a" if m["declined"] is None else f"{m['declined']:.2f}"
    return (f"  {label:28} hit@1 {m['hit@1']:.2f}  hit@5 {m['hit@5']:.2f}  answered {m['answered']:.2f} "
            f"(correctly {m['answered_correctly']:.2f})  declined {dec}  curated {m['curated']:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", default="kb-18f,kb-posthog")
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--idle", type=int, default=90, help="quiet days after the period (ratings decay)")
    ap.add_argument("--asks-per-item", type=float, default=3.0, help="how often each use item is asked")
    ap.add_argument("--review-every", type=int, default=7)
    ap.add_argument("--topics", type=int, default=3, help="gaps topics the trainers deal with per review")
    ap.add_argument("--per-question", type=int, default=6)
    ap.add_argument("--held-out", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--models-dir", default=None, help="a models folder with the ONNX export (faster)")
    ap.add_argument("--min-people", type=int, default=None,
                    help="people needed before ratings move an article (default: knowledge_base.feedback's)")
    ap.add_argument("--curated-paraphrase", type=float, default=None,
                    help="cosine at which a question gets a curated answer (default: knowledge_base.curated's)")
    ap.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = ap.parse_args()
    from intents.encoder import get_encoder

    if args.min_people is not None:
        feedback.MIN_PEOPLE = args.min_people
    if args.curated_paraphrase is not None:
        curated_answers.PARAPHRASE = args.curated_paraphrase
    CACHE.mkdir(parents=True, exist_ok=True)
    encoder = CachedEncoder(lambda: get_encoder(args.models_dir), VectorFileCache(CACHE / "questions.npz"))
    out: dict[str, Any] = {}
    for name in args.corpora.split(","):
        rep = out[name] = run_corpus(name, encoder, args)
        print(f"{name} (min people {feedback.MIN_PEOPLE}, curated at cosine {curated_answers.PARAPHRASE}): "
              f"{rep['articles']} articles, "
              f"{rep['use_items']} use / {rep['held_out_items']} held-out "
              f"items, {rep['asks']} asks over {args.days} days, {rep['ratings']} ratings, "
              f"{rep['curated_entries']} curated entries, {len(rep['trainer_actions'])} trainer actions", flush=True)
        print(_line("held-out before", rep["held_out_before"]))
        print(_line("held-out after", rep["held_out_after"]))
        print(_line(f"held-out after +{args.idle} idle days", rep[f"held_out_after_{args.idle}_idle_days"]))
        print(_line("use set after", rep["use_set_after"]))
        print(f"  cap: {json.dumps(rep['cap'])}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
