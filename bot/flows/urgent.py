"""Urgent and safety situations: recognised in any wording, answered first with the right steps.

A small rule set (the intent model alone is not trusted with these): liquid damage,
a lost or stolen device, a suspected compromise, being locked out right before a
deadline. Each names the article section with the steps and the urgency any ticket
gets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Situation:
    """One urgent situation: where its steps are, and what a ticket for it says."""

    kind: str
    lead: str
    article_id: str
    section: str
    category: str  # the ticket's category (an intent name, so routing rules apply)
    urgency: str
    fallback: str  # the steps when the article is missing


_DEVICE = (r"(?:laptop|notebook|macbook|computer|pc|phone|iphone|mobile|tablet|ipad|keyboard|device|"
           r"surface|thinkpad|dell|monitor|work\s+bag|bag|badge|yubikey|security\s+key)")
_LIQUID = r"(?:coffee|tea|water|juice|wine|soda|coke|beer|milk|drink|liquid|rain|latte|smoothie)"
_LIQUID_RE = re.compile(
    rf"\b(?:spill(?:ed|t|s|ing)?|knock(?:ed)?\s+(?:over\s+)?(?:a|my|the)?\s*(?:glass|cup|mug|bottle)|"
    rf"(?:got|is|was|became)\s+(?:all\s+)?(?:wet|soaked|drenched)|water\s+damage|liquid\s+damage|"
    rf"dropped\s+(?:it|my\s+\w+)\s+in(?:to)?\s+(?:the\s+)?(?:water|sink|toilet|pool|bath)|"
    rf"{_LIQUID}\s+(?:all\s+)?(?:over|on|into|in)\s+(?:my|the|it)\b|(?:soaked|drenched)\s+in\s+{_LIQUID})",
    re.I)
_LOST_RE = re.compile(
    rf"\b(?:(?:lost|misplaced|can'?t\s+find|cannot\s+find|lose)\s+(?:my|our|the|a)?\s*(?:\w+\s+){{0,2}}{_DEVICE}|"
    rf"{_DEVICE}\s+(?:\w+\s+){{0,3}}(?:was|got|has\s+been|is|been)\s+(?:stolen|nicked|taken|lost|missing|snatched)|"
    rf"(?:stole|nicked|snatched|took)\s+(?:my|our|the)\s+(?:\w+\s+){{0,2}}{_DEVICE}|"
    rf"(?:stolen|missing)\s+(?:\w+\s+){{0,2}}{_DEVICE}|(?:robbed|mugged|burgled|broken\s+into)|"
    rf"left\s+(?:my|the)\s+(?:\w+\s+){{0,2}}{_DEVICE}\s+(?:\w+\s+){{0,2}}(?:on|in|at)\s+(?:the|a)?\s*"
    rf"(?:train|bus|taxi|cab|uber|plane|flight|airport|tram|subway|metro|cafe|café|restaurant|bar|hotel))",
    re.I)
_COMPROMISE_RE = re.compile(
    r"\b(?:hacked|compromised|hijacked|taken\s+over|breached|ransomware|ransom|"
    r"clicked\s+(?:on\s+)?(?:a|the|an|that)?\s*(?:\w+\s+){0,3}(?:link|attachment|button)|"
    r"(?:entered|typed|gave|put\s+in|submitted)\s+(?:in\s+)?my\s+(?:\w+\s+)?(?:password|credentials|login|details)|"
    r"(?:opened|downloaded|ran)\s+(?:a|an|the|that)?\s*(?:\w+\s+){0,2}(?:attachment|file|macro)\s+"
    r"(?:from|in)\s+(?:a|an|the|that)?\s*(?:\w+\s+){0,2}(?:e-?mail|message)|"
    r"someone\s+(?:\w+\s+){0,3}(?:logged|logging|signed|signing|using|sending|accessed|accessing)\s+(?:\w+\s+){0,4}"
    r"(?:my\s+account|from\s+my|as\s+me|my\s+e-?mail|my\s+mailbox)|"
    r"(?:mfa|2fa|authenticator|sign-?in|login)\s+(?:requests?|prompts?|codes?|notifications?)\s+(?:\w+\s+){0,3}"
    r"(?:i\s+didn'?t|i\s+did\s+not|not\s+me)|"
    r"(?:mouse|cursor)\s+(?:\w+\s+){0,2}mov(?:es|ing)\s+(?:on\s+its\s+own|by\s+itself))",
    re.I)
_LOCKED_RE = re.compile(
    r"\b(?:locked\s+out|lock(?:ed)?\s+me\s+out|account\s+(?:is\s+)?locked|can'?t\s+(?:log|sign)\s*(?:in|on)|"
    r"can\s*not\s+(?:log|sign)\s*(?:in|on)|cant\s+(?:log|sign)\s*(?:in|on)|unable\s+to\s+(?:log|sign)\s*(?:in|on)|"
    r"(?:password|login|sign-?in)\s+(?:\w+\s+)?(?:stopped\s+working|doesn'?t\s+work|isn'?t\s+working|not\s+working|"
    r"fails|failed|rejected))",
    re.I)
_DEADLINE_RE = re.compile(
    r"(?:\b(?:deadline|demo|meeting|presentation|presenting|pitch|interview|call|webinar|exam|board|client|"
    r"customer|urgent(?:ly)?|asap|emergency|right\s+now|immediately|due)\b|\bin\s+\d+\s*(?:min|mins|minutes|m)\b|"
    r"!!+)",
    re.I)

LIQUID = Situation(
    "liquid_damage", "Liquid on a device: switch it off now — don't turn it on again or charge it.",
    "hardware/broken-device", "Liquid spilled on a device", "hardware_problem", "high",
    "Unplug the charger and switch the device off. Don't switch it on again or charge it; turn it upside "
    "down and let it drain. IT collects it and lends you a spare.")
LOST = Situation(
    "lost_device", "A lost or stolen device must be reported within one hour, so IT can lock and wipe it.",
    "hardware/broken-device", "Lost or stolen devices", "hardware_problem", "high",
    "Call the service desk (+1 555 0100, around the clock) within one hour; IT locks and wipes the device. "
    "For theft, also report it to the police.")
COMPROMISE = Situation(
    "compromise", "This may be a security incident: act now, you won't be blamed.",
    "security/phishing", "I already clicked or replied", "phishing_report", "high",
    "Change your password at once, report the message, and call the service desk (+1 555 0100).")
LOCKED = Situation(
    "locked_out_deadline", "Locked out with no time to lose: here is the fastest way back in.",
    "accounts/password-reset", "Locked out right before a meeting or deadline", "account_unlock", "high",
    "Ask me to unlock your account or reset your password; if that fails, call the service desk "
    "(+1 555 0100) and say you have a deadline.")
SITUATIONS = (LIQUID, LOST, COMPROMISE, LOCKED)


def detect(text: str) -> Situation | None:
    """The urgent situation ``text`` describes, in any wording, else None."""
    if _LIQUID_RE.search(text):
        return LIQUID
    if _LOST_RE.search(text):
        return LOST
    if _COMPROMISE_RE.search(text):
        return COMPROMISE
    if _LOCKED_RE.search(text) and _DEADLINE_RE.search(text):
        return LOCKED
    return None


def section_text(markdown: str, heading: str) -> str | None:
    """The body of the ``## heading`` section of an article's Markdown (front matter ignored), or None."""
    lines = markdown.splitlines()
    out: list[str] = []
    inside = False
    for line in lines:
        if re.match(r"^#{1,6}\s", line):
            if inside:
                break
            inside = line.lstrip("#").strip().lower() == heading.lower()
            continue
        if inside:
            out.append(line)
    body = "\n".join(out).strip()
    return body or None


def as_chat_text(markdown: str) -> str:
    """Article Markdown as chat text: ``**bold**`` → ``*bold*``, ``[text](link)`` → ``text``, lines joined."""
    text = re.sub(r"\*\*(.+?)\*\*", r"*\1*", markdown)
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        items = re.split(r"\n(?=\s*(?:\d+\.|[-*•])\s)", block)
        paragraphs.append("\n".join(" ".join(item.split()) for item in items))
    return "\n\n".join(p for p in paragraphs if p)


__all__ = ["SITUATIONS", "Situation", "as_chat_text", "detect", "section_text"]
