"""The answer flow: search the knowledge base, answer with a cited quote, or decline and offer a ticket."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.flows.article_intent import ArticleIntents
from bot.flows.base import TurnContext
from bot.flows.texts import BUTTON_EXPIRED
from bot.flows.urgent import Situation, as_chat_text, detect, section_text
from bot.messages import Action, Button, Outcome, Reply, Source
from intents.remit import gibberish
from knowledge_base.catalog import show_article
from knowledge_base.compose import best_chunk, quote_beyond, summary_sentences
from knowledge_base.gist import article_gist
from knowledge_base.index import ArticleHit
from knowledge_base.search import INTENT_AGREEMENT_MARGIN
from knowledge_base.settings import KnowledgeBaseSettings

if TYPE_CHECKING:
    from intents.api import ParseResult
    from knowledge_base.search import SearchResult
    from knowledge_base.service import KnowledgeBase

log = logging.getLogger(__name__)
FEEDBACK = "answer.feedback"
CURATED_NOTE = "(An answer IT approved for questions like yours.)"
DECLINE_TEXT = ("I don't know the answer to that, and I'd rather not guess. "
                "I can open a ticket so someone from IT can help.")
DECLINE_NEAR_TEXT = ("I don't know the answer to that, and I'd rather not guess. {closest} "
                     "I can open a ticket so someone from IT can help.")
NOT_UNDERSTOOD_TEXT = ("I couldn't make sense of that: most of its words aren't ones I know. Could you say it in "
                       "other words, for example “my VPN keeps dropping”? Or I can open a ticket.")
CLOSEST = {1: "The article below came closest, though it may not answer it.",
           2: "The articles below came closest, though they may not answer it."}


def _ticket_button(question: str, *, category: str | None = None,
                   suggested: list[Source] | None = None, unhelpful: str | None = None) -> Button:
    """"Open a ticket", carrying what IT should know: category and the articles already tried."""
    value: dict[str, Any] = {"summary": question[:200]}
    if category:
        value["category"] = category
    if suggested:
        value["articles_suggested"] = [{"article_id": s.article_id, "title": s.title[:80], "url": s.url}
                                       for s in suggested[:2]]
    if unhelpful:
        value["articles_unhelpful"] = [unhelpful]
    return Button("Open a ticket", "ticket.open", value)


def _category(ctx: TurnContext) -> str | None:
    parse = ctx.parse
    if parse is None or parse.out_of_scope or parse.intent.name == "out_of_scope":
        return None
    return parse.intent.name


class AnswerFlow:
    """Answers from the knowledge base (never a guess: below the threshold it declines)."""

    name = "answer"

    def __init__(self, kb: Callable[[], KnowledgeBase], settings: KnowledgeBaseSettings,
                 article_intents: ArticleIntents | None = None) -> None:
        self._kb = kb
        self.settings = settings
        self.article_intents = article_intents  # a second opinion on answering (see bot.flows.article_intent)

    def second_opinion(self, result: SearchResult, parse: ParseResult | None) -> None:
        """Below the threshold, note whether the message's confident intent is the top article's own (which lowers
        the bar a little: :data:`knowledge_base.search.INTENT_AGREEMENT_MARGIN`)."""
        if (result.top is None or result.answerable or self.article_intents is None
                or result.confidence < result.threshold - INTENT_AGREEMENT_MARGIN):
            return  # nothing an agreement could change
        if result.top.feedback < 0:
            return  # employees rated it not helpful for questions like this one: their word outranks the model's
        result.intent_agrees = self.article_intents.agree(parse, result.top)

    def _source(self, hit: ArticleHit, *, section: str | None = None) -> Source:
        base = self.settings.article_base_url
        return Source(article_id=hit.info.id, title=hit.info.title, url=base + hit.info.id, path=hit.info.path,
                      section=section, review_by=hit.info.review_by, score=round(hit.score, 4))

    def handle_intent(self, ctx: TurnContext) -> Reply:
        asked = ctx.message.text.strip()
        # what travels in button values (and so through Slack) never carries a secret the user typed
        question = ctx.redact(asked)
        situation = detect(asked)
        if situation is not None:
            return self.urgent(ctx, situation)
        kb = self._kb()
        understood = ctx.understood_text.strip()  # a long paste: searched on its prose and telling log lines
        result = kb.search(understood, ctx.embed(), groups=frozenset(ctx.message.groups), k=5, session=ctx.session)
        top = result.top
        if top is not None:
            ctx.top_article_id = top.info.id
            ctx.kb_score = round(result.confidence, 4)
        curated = result.curated
        if curated is not None and curated.answer:
            return self._approved_answer(ctx, question, curated.id, curated.answer, curated.source)
        self.second_opinion(result, ctx.parse)
        if top is None or not result.answerable:
            if gibberish(asked):  # keyboard mashing: no article "came closest", and "I don't know" misleads
                return Reply(text=NOT_UNDERSTOOD_TEXT, outcome=Outcome.DECLINED,
                             buttons=[_ticket_button(question)])
            closest = [self._source(h, section=best_chunk(h).section) for h in result.near_misses()]
            text = DECLINE_NEAR_TEXT.format(closest=CLOSEST[min(len(closest), 2)]) if closest else DECLINE_TEXT
            return Reply(text=text, outcome=Outcome.DECLINED,
                         related=closest,
                         buttons=[_ticket_button(question, category=_category(ctx), suggested=closest or None)])
        chunk = kb.section_to_quote(top, understood, ctx.embed())
        sources = [self._source(top, section=chunk.section)]
        # further sources: other articles that are also close to the best score
        for hit in result.hits[1:]:
            sources.append(self._source(hit, section=best_chunk(hit).section))
        max_related = self.settings.max_related
        related_hits = kb.related(top, groups=frozenset(ctx.message.groups), exclude={top.info.id},
                                  k=max_related) if max_related else []
        passage = kb.passage(top.info.id, chunk.row) or chunk.text
        answer = article_gist(ctx.session, top.info.id, understood, chunk.section, passage)
        gist = answer.text if answer else summary_sentences(understood, passage) or top.info.title
        where = f"“{top.info.title}”" + (f" › {chunk.section}" if chunk.section else "")
        url = sources[0].url + (f"#{answer.anchor}" if answer and answer.anchor else "")
        if url.startswith(("http://", "https://")):  # the link to the full section
            where = f"[{where}]({url.replace(' ', '%20').replace('(', '%28').replace(')', '%29')})"
        text = f"{gist}\n\nFrom {where}. Did this help?"
        if curated is not None:
            text += f"\n{CURATED_NOTE}"
        # a rating is matched to later questions by meaning: it keeps the question as understood
        value = {"article_id": top.info.id, "question": ctx.redact(understood)[:500],
                 "score": round(result.confidence, 4)}
        return Reply(
            text=text,
            outcome=Outcome.ANSWERED,
            quote=quote_beyond(gist, passage),  # only what the gist does not show
            sources=sources,
            related=[self._source(h) for h in related_hits],
            buttons=[Button("Helpful", FEEDBACK, {**value, "helpful": True}, style="primary"),
                     Button("Not helpful", FEEDBACK, {**value, "helpful": False}),
                     _ticket_button(question, category=_category(ctx), suggested=sources)],
        )

    def urgent(self, ctx: TurnContext, situation: Situation) -> Reply:
        """The steps for an urgent situation first, and a ticket that carries its urgency (one click)."""
        words = ctx.redact(ctx.message.text.strip())
        kb = self._kb()
        steps, title = situation.fallback, None
        try:
            kb.bootstrap(ctx.session)
            article = show_article(ctx.session, situation.article_id)  # in this turn's transaction
            title = str(article.get("title") or "") or None
            found = section_text(str(article.get("text") or ""), situation.section)
            if found:
                steps = as_chat_text(found)
        except Exception as exc:  # noqa: BLE001 - the built-in steps are always there
            log.info("urgent steps from the built-in text: %s", type(exc).__name__)
        sources = []
        if title:
            ctx.top_article_id = situation.article_id
            base = self.settings.article_base_url
            sources.append(Source(article_id=situation.article_id, title=title,
                                  url=base + situation.article_id, section=situation.section))
        where = f"\n\nFrom “{title}” › {situation.section}." if title else ""
        details = (f"{words}\n\nUrgent situation recognised by the helpdesk bot: "
                   f"{situation.kind.replace('_', ' ')}; the employee was shown the steps"
                   + (f" from “{title}” › {situation.section}." if title else "."))
        ticket = {"summary": words[:200], "details": details, "urgency": situation.urgency,
                  "category": situation.category,
                  "extra": {"articles_suggested": [{"article_id": s.article_id, "title": s.title[:80], "url": s.url}
                                                   for s in sources]}}
        buttons = [Button("Open an urgent ticket now", "ticket.submit", ticket, style="primary")]
        if situation.category == "account_unlock":
            buttons = [Button("Unlock my account", "account.check", {}, style="primary"),
                       Button("Reset my password", "account.reset_start", {}),
                       Button("Open an urgent ticket now", "ticket.submit", ticket)]
        return Reply(text=f"{situation.lead}\n\n{steps}{where}", outcome=Outcome.ANSWERED,
                     sources=sources, buttons=buttons)

    def _approved_answer(self, ctx: TurnContext, question: str, entry: int, answer: str,
                         source: str | None) -> Reply:
        """A trainer's short approved answer for this question (or a close paraphrase), with its source."""
        where = f" Source: {source}" if source else ""
        value = {"article_id": None, "curated": entry, "question": question[:500]}
        return Reply(text=f"{answer}\n\n{CURATED_NOTE}{where}. Did this help?", outcome=Outcome.ANSWERED,
                     buttons=[Button("Helpful", FEEDBACK, {**value, "helpful": True}, style="primary"),
                              Button("Not helpful", FEEDBACK, {**value, "helpful": False}),
                              _ticket_button(question, category=_category(ctx))])

    def handle_action(self, ctx: TurnContext, action: Action) -> Reply:
        if action.action_id != FEEDBACK:
            return Reply(text=BUTTON_EXPIRED, outcome=Outcome.ERROR)
        from knowledge_base.ratings import record_rating

        value = action.value
        helpful = bool(value.get("helpful"))
        question = ctx.redact(str(value.get("question", "")))
        article_id = value.get("article_id")
        record_rating(ctx.session, question=question, article_id=str(article_id) if article_id else None,
                      helpful=helpful, user_key=ctx.message.user_key,
                      score=value.get("score") if isinstance(value.get("score"), (int, float)) else None)
        ctx.top_article_id = str(article_id) if article_id else None
        if helpful:
            return Reply(text="Thanks for letting me know — glad it helped!", outcome=Outcome.FEEDBACK)
        return Reply(text="Thanks for the feedback — I've passed it on to the people who write our articles. "
                          "Would you like me to open a ticket so someone from IT can help?",
                     outcome=Outcome.FEEDBACK,
                     buttons=[_ticket_button(question, unhelpful=str(article_id) if article_id else None)])

    def handle_followup(self, ctx: TurnContext) -> Reply | None:
        return None
