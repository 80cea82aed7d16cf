"""What the account flow says, and what it reads in the employee's words.

* :func:`someone_else` finds a request about another person's account ("reset bob's
  password", an e-mail address that is not the asker's, "the admin password"): the bot
  only ever acts on the asker's own account, and says so.
* :func:`asks_for_ticket` recognises "yes, open a ticket" typed after the bot offered one.
* :func:`reason_for_it` is the sentence IT needs in a ticket about a refused account; it is
  never shown to the employee (a refusal reads the same whatever the reason).
"""

from __future__ import annotations

import re

CANT_DO_IT = "I can't do this automatically for your account, so it needs a person from IT."
NO_DIRECTORY = "Password and account self-service isn't set up in this chat, so I can't change your account myself."
UNAVAILABLE = "I can't reach the account tools right now, so I can't change your account myself."
UNREACHABLE = "I couldn't reach the company directory just now, so I couldn't finish this for you."
NO_EMAIL = ("I can only help with your own account, and this channel didn't give me a verified "
            "e-mail address for you, so this needs a person from IT.")
OFFER_TICKET = " Shall I open a ticket for IT with what you wrote? Nothing is sent until you say so."
KEPT = " Your request isn't lost:"
FALLBACK = " Press the button to open a ticket for them."
ONLY_YOURS = ("I can only reset or unlock *your own* account{own}, never someone else's — not even with "
              "their permission. They can ask me themselves, or IT can help them.")
TICKET_LABEL = "Open a ticket"
EXPIRED = "That button has expired. What can I help you with?"
OFFER_GONE = "That offer has expired. Tell me again what you need and I'll help."
NO_EMAIL_SUMMARY = "no verified e-mail"

_NOT_A_NAME = {"my", "me", "the", "a", "an", "your", "our", "this", "that", "its", "it", "one", "user", "users",
               "his", "her", "their", "mine", "own", "account", "password", "email", "e-mail", "windows",
               "office", "outlook", "laptop", "computer", "vpn", "wifi", "company", "work", "today", "everyone"}
_POSSESSIVE = re.compile(r"\b([A-Za-z][\w.-]{1,40})(?:'s|’s|s')\s+(?:\w+\s+)?(?:password|account|login|pw|pass)\b",
                         re.IGNORECASE)
_VERB_NAME = re.compile(r"\b(?:reset|unlock|change)\s+(?:the\s+)?(?:password|account)s?\s+(?:of|for)\s+"
                        r"([A-Za-z][\w.-]{1,40})\b", re.IGNORECASE)
_OTHER_PEOPLE = re.compile(r"\b(my|a|our)\s+(colleague|co-?worker|manager|boss|team ?mate|employee|"
                           r"report|assistant|friend)s?\b|\bsomeone else\b|\banother (?:user|person|employee)\b",
                           re.IGNORECASE)
_PRIVILEGED = re.compile(r"\b(admin|administrator|root|domain admin|service account|superuser)\b",
                         re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+*()-]+@[\w-]+(?:\.[\w-]+)+")

_AFFIRM = re.compile(r"^\s*(yes|yeah|yep|yup|sure|ok|okay|please|go ahead|do it|y)\b", re.IGNORECASE)
_TICKET = re.compile(r"\b(open|create|raise|file|log|make|submit|send|want|need|get)\b.{0,40}\b(ticket|it|human|"
                     r"person|someone)\b|\bticket,? please\b|\btalk to (?:a |an )?(?:human|person|someone)\b",
                     re.IGNORECASE)


def someone_else(text: str, own_email: str | None) -> str | None:
    """Who else the message asks about ("bob", "a colleague", "an admin account"), or None.

    The asker's own address, "my password" and the like are not someone else.
    """
    own = (own_email or "").strip().lower()
    for address in _EMAIL.findall(text or ""):
        if address.lower() != own:
            return address
    for pattern in (_POSSESSIVE, _VERB_NAME):
        for found in pattern.finditer(text or ""):
            name = found.group(1)
            if name.lower() not in _NOT_A_NAME and name.lower() != own.split("@")[0]:
                return name
    other = _OTHER_PEOPLE.search(text or "")
    if other:
        return other.group(0).lower()
    if _PRIVILEGED.search(text or "") and re.search(r"password|account|login", text or "", re.IGNORECASE):
        return "an administrative account"
    return None


def asks_for_ticket(text: str) -> bool:
    """Whether free text typed after a ticket offer accepts it ("yes please", "open a ticket then")."""
    low = (text or "").strip().lower()
    if not low or len(low) > 200 or re.search(r"\bmy tickets\b|\bstatus\b|\b[A-Z]+-\d+\b", text or ""):
        return False
    if _AFFIRM.match(low) and len(low.split()) <= 6:
        return True
    return bool(_TICKET.search(low))


def affirms(text: str) -> bool:
    """A short "yes" / "ok, do it" typed after the bot asked "Shall I …?"."""
    low = (text or "").strip().lower()
    return bool(_AFFIRM.match(low)) and len(low.split()) <= 4 and not re.search(r"\b(not|no|don't|dont)\b", low)


def reason_for_it(refusal: str | None, detail: str, *, email: str | None, channel: str, action: str) -> str:
    """What the technician needs to act on a refused request (never shown to the employee)."""
    if refusal == "protected":
        return (f"the account is protected ({detail or 'a protected account'}), so the bot never changes it: "
                f"{action} it by hand after verifying the employee's identity.")
    if refusal == "disabled":
        return ("the account is disabled in the directory: check with the employee's manager before "
                f"re-enabling it, then {action} it by hand.")
    if refusal == "not_found":
        return (f"no single directory account has the employee's verified e-mail {email or '(none)'} (none, or "
                f"several share it): find the right account and verify the employee before you {action} it.")
    if refusal == "no_email":
        return (f"the request came from {channel} without a verified e-mail address, so the bot could not tell "
                f"whose account it is: verify the employee's identity before you {action} anything.")
    return f"the bot could not {action} the account itself: {detail or 'see the directory audit log'}."


__all__ = ["CANT_DO_IT", "affirms", "asks_for_ticket", "reason_for_it", "someone_else"]
