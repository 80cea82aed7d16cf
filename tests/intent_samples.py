"""A small Rasa intent data set (fast to train) shared by tests that train or edit intents."""

from __future__ import annotations

import textwrap
from pathlib import Path

# A small Rasa data set (fast to train): comments and layout must survive every edit.
SMALL_INTENTS = {
    "smalltalk.yml": """\
        # Small talk.
        version: "3.1"
        nlu:
        - intent: greet
          examples: |
            - hello
            - hi there
            - good morning
            - hey
            - hello bot
            - hi
        """,
    "it.yml": """\
        # Knowledge questions (the knowledge base answers them).
        version: "3.1"
        nlu:
        - intent: printer_issue
          examples: |
            - the printer is not working
            - I can't print
            - printer jammed
            - how do I add a printer
            - my print job is stuck
            - printing fails
        - intent: vpn_issue
          examples: |
            - the vpn does not connect
            - vpn keeps dropping
            - how do I connect to the vpn
            - globalprotect error
            - cannot reach intranet from home
            - vpn is slow
        - intent: equipment_request
          examples: |
            - I need a new monitor
            - can I get a docking station
            - request a keyboard and mouse
            - I need a headset for calls
            - order a laptop stand
            - can I have a second screen
        """,
}


def write_small_intents(data_dir: Path) -> Path:
    """``data_dir/intents`` with the small data set; returns ``data_dir``."""
    folder = data_dir / "intents"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in SMALL_INTENTS.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return data_dir
