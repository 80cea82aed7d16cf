"""Every sentence the Slack channel itself shows an employee (the flows' texts live with the flows).

Strings with ``{placeholders}`` are filled in with :meth:`str.format` where they are used.
"""

from __future__ import annotations

# --- /helpdesk and "Share in channel" ---------------------------------------------
BARE_COMMAND_QUESTION = "what can you do?"  # a bare `/helpdesk` asks for help
SHARE_BUTTON = "Share in channel"
SHARED_BY = "Shared by <@{user_id}> via {command}"
SHARE_GONE = "That answer can no longer be shared; ask me again."

# --- feedback buttons, once pressed in a DM -----------------------------------------
RATED_HELPFUL = ":thumbsup: You found this helpful."
RATED_NOT_HELPFUL = ":thumbsdown: You found this not helpful."

# --- Block Kit rendering of a reply ---------------------------------------------------
READ_FULL_ARTICLE = "Read the full article"
RELATED = "Related: {links}"
TICKET_LINE = "Ticket: *{link}*"
REVIEW_DATE = "· review date {date}"
FORM_BUTTON = "{title}…"
NO_TEXT = "(no text)"

# --- the ticket modal -----------------------------------------------------------------
TICKET_FORM_TITLE = "Open a ticket"
TICKET_FORM_SUBMIT = "Create ticket"
TICKET_FORM_CANCEL = "Cancel"
SUMMARY_LABEL = "Summary"
DETAILS_LABEL = "Details"
DETAILS_PLACEHOLDER = "What happened, error messages, what you tried"
URGENCY_LABEL = "Urgency"

# --- App Home ---------------------------------------------------------------------------
HOME_TITLE = "IT helpdesk"
HOME_CAPABILITIES = (
    "*Ask me anything IT* — in a direct message, by @mentioning me in a channel "
    "(I answer in the thread), or with `{command} your question` (only you see the answer).\n"
    "• Answers from the IT knowledge base (VPN, Wi-Fi, MFA, e-mail, printing, policies…) with the source article\n"
    "• Unlock your account or reset your password (answered only to you)\n"
    "• Open a ticket for IT staff, and check it: _\"status of IT-123\"_, _\"my tickets\"_"
)
HOME_TICKETS_TITLE = "Your open tickets"
HOME_TICKETS_UNAVAILABLE = "Ask me _\"my tickets\"_ to see your tickets."
HOME_NO_TICKETS = "You have no open tickets. :tada:"
HOME_MORE_TICKETS = "…and {count} more: ask me _\"my tickets\"_."
HOME_QUEUED_KEY = "(queued)"  # a ticket still waiting in the outbox has no key yet
OPEN_TICKET_BUTTON = "Open a ticket"

# --- when a turn cannot be answered -----------------------------------------------------
COULD_NOT_PROCESS = "Sorry, I couldn't process that. Please try again in a minute."
SLOW_DOWN = ("You're sending me requests faster than I can answer them. "
             "Please wait about {seconds} seconds, then try again.")
ASK_IN_DM = ("For your security I can only show that to you in our direct message. "
             "Please ask me there again.")
