"""What the engine and every flow say in common (each capability keeps its own wording in its flow)."""

from __future__ import annotations

BUTTON_EXPIRED = "That button has expired. What can I help you with?"
DIDNT_CATCH = "I didn't catch that. What can I help you with?"
EMPTY_ANSWER = "I didn't catch that."
CANCELLED = "OK, cancelled. What else can I help you with?"
SOMETHING_WENT_WRONG = "Sorry, something went wrong on my side. Please try again, or ask for a ticket."
FORM_LEFT = "OK, I've stopped the form we were filling in (nothing was submitted)."

__all__ = ["BUTTON_EXPIRED", "CANCELLED", "DIDNT_CATCH", "EMPTY_ANSWER", "FORM_LEFT", "SOMETHING_WENT_WRONG"]
