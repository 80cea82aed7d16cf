"""Reply → Block Kit, within Slack's documented limits (truncating gracefully, never erroring).

Limits (api.slack.com/reference/block-kit): 50 blocks per message (100 in a view),
3000 chars of section/context text, 150 for a header, 75 for button text,
2000 for a button value, 255 for action/block ids, 25 elements per actions block,
10 per context block, 3000 for a URL.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.channels.slack import texts
from bot.messages import Action, Button, Reply, Source

MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100
SECTION_TEXT = 3000
CONTEXT_TEXT = 3000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
ACTIONS_ELEMENTS = 25
CONTEXT_ELEMENTS = 10
URL_LENGTH = 3000
FALLBACK_TEXT = 3000  # the top-level `text` (notifications, screen readers)
BUTTONS_PER_ROW = 5

ACTION_PREFIX = "hd."           # every button the bot renders
FORM_ACTION = "slack.form"      # opens a FormRequest as a modal
SHARE_ACTION = "slack.share"    # shares an ephemeral reply in the channel
FEEDBACK_ACTION = "answer.feedback"  # the engine's rating action (bot.flows.answer.FEEDBACK)
FEEDBACK_BLOCK = "hd_feedback"       # the context_actions block of Slack's native feedback buttons
ELLIPSIS = "…"

_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")
_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.MULTILINE)


# --- text helpers -------------------------------------------------------------
def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> str:
    """Markdown-ish engine text → Slack mrkdwn (escaped; links, bold, headings)."""
    out = escape(text)
    out = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", out)
    out = _BOLD.sub(r"*\1*", out)
    return _HEADING.sub(r"*\1*", out)


def valid_url(url: str | None) -> bool:
    """An http(s) URL Slack accepts in a link or a button."""
    return url is not None and len(url) <= URL_LENGTH and url.startswith(("http://", "https://"))


def link(url: str | None, title: str) -> str:
    """``<url|title>`` in mrkdwn, or just the (escaped) title when the URL is not usable."""
    label = escape(title).replace("|", "¦")
    return f"<{url}|{label}>" if valid_url(url) else label


def truncate(text: str, limit: int, *, more: str = "") -> str:
    """Cut ``text`` to ``limit`` chars at a word boundary, appending ``…`` and ``more``."""
    if len(text) <= limit:
        return text
    budget = max(limit - len(more) - len(ELLIPSIS), 0)
    cut = text[:budget]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > budget * 0.6:
        cut = cut[:space]
    cut = _drop_open_entity(cut.rstrip())
    return (cut + ELLIPSIS + more)[:limit]


def _drop_open_entity(text: str) -> str:
    """Don't end in the middle of ``<url|label>`` or ``&amp;``."""
    lt, gt = text.rfind("<"), text.rfind(">")
    if lt > gt:
        text = text[:lt]
    amp = text.rfind("&")
    if amp != -1 and ";" not in text[amp:]:
        text = text[:amp]
    return text


def plain(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object cut to ``limit`` (never empty: Slack refuses that)."""
    return {"type": "plain_text", "text": truncate(text or " ", limit) or " ", "emoji": True}


def section(text: str, *, more: str = "") -> dict[str, Any]:
    """A mrkdwn section block within Slack's text limit."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_TEXT, more=more)}}


def context(*lines: str) -> dict[str, Any]:
    """A context block (small grey text), one element per non-empty line."""
    elements = [{"type": "mrkdwn", "text": truncate(t, CONTEXT_TEXT)} for t in lines if t][:CONTEXT_ELEMENTS]
    return {"type": "context", "elements": elements}


def header(text: str) -> dict[str, Any]:
    """A header block (plain text, 150 characters at most)."""
    return {"type": "header", "text": plain(text, HEADER_TEXT)}


# --- buttons ------------------------------------------------------------------
def encode_value(action_id: str, value: dict[str, Any]) -> str:
    """``{"a": action_id, "v": value}`` as JSON within 2000 chars (long strings are shortened)."""
    value = json.loads(json.dumps(value, default=str))
    while True:
        raw = json.dumps({"a": action_id, "v": value}, separators=(",", ":"), ensure_ascii=False)
        if len(raw) <= BUTTON_VALUE:
            return raw
        longest = _longest_string(value)
        if longest is None:
            return json.dumps({"a": action_id, "v": {}}, separators=(",", ":"))[:BUTTON_VALUE]
        container, key, text = longest
        container[key] = text[: max(len(text) // 2, 0)]


def _longest_string(obj: Any) -> tuple[Any, Any, str] | None:
    best: tuple[Any, Any, str] | None = None
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    for key, val in items:
        found = (obj, key, val) if isinstance(val, str) and val else _longest_string(val)
        if found is not None and (best is None or len(found[2]) > len(best[2])):
            best = found
    return best


def decode_value(raw: str | None) -> Action | None:
    """The engine Action a rendered button stands for (None for link buttons or foreign values)."""
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), str):
        return None
    value = data.get("v")
    return Action(action_id=data["a"], value=value if isinstance(value, dict) else {})


def button_element(button: Button, index: int) -> dict[str, Any]:
    """One button; its value carries the engine Action (see :func:`decode_value`)."""
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(button.label, BUTTON_TEXT),
        "action_id": f"{ACTION_PREFIX}{index}.{button.action_id}"[:ACTION_ID],
    }
    if valid_url(button.url):
        element["url"] = button.url
    # link buttons carry their action too: Slack reports the click, and the engine checks who pressed
    element["value"] = encode_value(button.action_id, button.value)
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    return element


def action_blocks(buttons: list[Button], *, start: int = 0) -> list[dict[str, Any]]:
    """Rows of at most five buttons; action ids are unique across the whole message."""
    rows = []
    for offset in range(0, len(buttons), BUTTONS_PER_ROW):
        chunk = buttons[offset: offset + BUTTONS_PER_ROW]
        rows.append({
            "type": "actions",
            "block_id": f"hd_actions_{start + offset}",
            "elements": [button_element(b, start + offset + i) for i, b in enumerate(chunk)],
        })
    return rows


# --- rating an answer: Helpful / Not helpful, or Slack's native feedback buttons ----------
def split_feedback(buttons: list[Button]) -> tuple[list[Button], tuple[Button, Button] | None]:
    """A reply's other buttons, and its (helpful, not helpful) pair when it has one."""
    rating = [b for b in buttons if b.action_id == FEEDBACK_ACTION]
    positive = next((b for b in rating if b.value.get("helpful") is True), None)
    negative = next((b for b in rating if b.value.get("helpful") is False), None)
    if positive is None or negative is None:
        return buttons, None
    return [b for b in buttons if b.action_id != FEEDBACK_ACTION], (positive, negative)


def feedback_block(positive: Button, negative: Button) -> dict[str, Any]:
    """Slack's native 👍/👎 (a ``feedback_buttons`` element in a ``context_actions`` block).

    Each button's value is the same engine action the Helpful / Not helpful buttons carry,
    so a click reaches the same rating path (docs.slack.dev/reference/block-kit/block-elements/
    feedback-buttons-element: text ≤ 75, value ≤ 2000, accessibility_label ≤ 75).
    """
    def half(button: Button, face: str) -> dict[str, Any]:
        return {"text": plain(face, BUTTON_TEXT), "accessibility_label": truncate(button.label, BUTTON_TEXT),
                "value": encode_value(button.action_id, button.value)}

    return {"type": "context_actions", "block_id": FEEDBACK_BLOCK,
            "elements": [{"type": "feedback_buttons", "action_id": f"{ACTION_PREFIX}feedback",
                          "positive_button": half(positive, "👍"), "negative_button": half(negative, "👎")}]}


def _rates(element: Any) -> bool:
    if not isinstance(element, dict):
        return False
    if element.get("type") == "feedback_buttons":
        return True
    raw = element.get("value")
    return (decode_value(raw if isinstance(raw, str) else None) or Action("")).action_id == FEEDBACK_ACTION


def without_feedback(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A rated message's blocks without its rating controls (nobody votes twice)."""
    kept_blocks = []
    for block in blocks:
        if block.get("type") in ("actions", "context_actions"):
            elements = block.get("elements")
            kept = [e for e in (elements if isinstance(elements, list) else []) if not _rates(e)]
            if not kept:
                continue
            block = {**block, "elements": kept}
        kept_blocks.append(block)
    return kept_blocks


# --- the reply ----------------------------------------------------------------
def source_line(source: Source) -> str:
    """The article an answer comes from: title (linked), section, review date."""
    parts = [f":page_facing_up: *{link(source.url, source.title)}*"]
    if source.section:
        parts.append(f"› {escape(source.section)}")
    if source.review_by:
        parts.append(texts.REVIEW_DATE.format(date=escape(str(source.review_by))))
    return " ".join(parts)


def full_article_link(reply: Reply) -> str:
    """What a shortened answer ends with: a link to the whole article (or nothing)."""
    for source in reply.sources:
        if valid_url(source.url):
            return f"\n<{source.url}|{texts.READ_FULL_ARTICLE}>"
    return ""


def _text_sections(text: str, more: str, budget: int) -> list[dict[str, Any]]:
    """Split long text into ≤3000-char sections on paragraph boundaries (at most ``budget``)."""
    body = mrkdwn(text).strip()
    if not body:
        return []
    chunks: list[str] = []
    current = ""
    for para in body.split("\n\n"):
        candidate = f"{current}\n\n{para}" if current else para
        if len(candidate) <= SECTION_TEXT:
            current = candidate
            continue
        if current:
            chunks.append(current)
        while len(para) > SECTION_TEXT:
            cut = truncate(para, SECTION_TEXT).rstrip(ELLIPSIS)
            chunks.append(cut)
            para = para[len(cut):].lstrip()
        current = para
    if current:
        chunks.append(current)
    if len(chunks) > budget:
        chunks = chunks[:budget]
        last = _drop_open_entity(chunks[-1][: SECTION_TEXT - len(more) - len(ELLIPSIS)].rstrip())
        chunks[-1] = last + ELLIPSIS + more
    return [section(c) for c in chunks]


def render_reply(reply: Reply, *, extra_buttons: list[Button] | None = None,
                 max_blocks: int = MAX_BLOCKS_MESSAGE,
                 native_feedback: bool = False) -> tuple[str, list[dict[str, Any]]]:
    """``(fallback_text, blocks)`` for chat.postMessage / postEphemeral / views.

    ``native_feedback``: the Helpful / Not helpful pair becomes Slack's feedback buttons.
    """
    more = full_article_link(reply)
    tail: list[dict[str, Any]] = []
    if reply.quote:
        quoted = "\n".join("> " + line for line in mrkdwn(reply.quote).splitlines() if line.strip())
        if quoted:
            tail.append(section(quoted, more=more))
    for source in reply.sources[:1]:
        tail.append(context(source_line(source)))
    if reply.related:
        related = " · ".join(link(r.url, r.title) for r in reply.related)
        tail.append(context(texts.RELATED.format(links=related)))
    if reply.ticket_key and reply.ticket_key not in reply.text:
        tail.append(context(texts.TICKET_LINE.format(link=link(reply.ticket_url, reply.ticket_key))))
    buttons = list(reply.buttons)
    if reply.form is not None:
        buttons.append(Button(label=texts.FORM_BUTTON.format(title=reply.form.title), action_id=FORM_ACTION,
                              style="primary", value={"kind": reply.form.kind, "submit": reply.form.submit_action,
                                     "title": reply.form.title, "fields": reply.form.fields}))
    buttons += extra_buttons or []
    buttons = buttons[:ACTIONS_ELEMENTS * 2]
    pair = None
    if native_feedback:
        buttons, pair = split_feedback(buttons)
    actions = action_blocks(buttons) + ([feedback_block(*pair)] if pair else [])
    budget = max(max_blocks - len(tail) - len(actions), 1)
    blocks = _text_sections(reply.text, more, budget) + tail + actions
    return fallback_text(reply), blocks[:max_blocks]


def fallback_text(reply: Reply) -> str:
    """Plain text for notifications and clients that cannot show blocks."""
    return truncate(reply.text or texts.NO_TEXT, FALLBACK_TEXT)
