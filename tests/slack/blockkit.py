"""Block Kit limit checks (api.slack.com/reference/block-kit), used by the fake Slack and the tests.

Returns a list of human-readable problems; empty means Slack would accept the layout's sizes.
"""

from __future__ import annotations

from typing import Any

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
TEXT_OBJECT = 3000
SECTION_FIELD = 2000
HEADER = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
BLOCK_ID = 255
URL = 3000
ACTIONS_ELEMENTS = 25
CONTEXT_ELEMENTS = 10
CONTEXT_ACTIONS_ELEMENTS = 5
VIEW_TITLE = 24
PRIVATE_METADATA = 3000
CALLBACK_ID = 255
INPUT_LABEL = 2000
OPTION_TEXT = 75
OPTION_VALUE = 150
OPTIONS = 100
PLAIN_INPUT_MAX = 3000
MESSAGE_TEXT = 40000


def _text(obj: Any, where: str, limit: int, problems: list[str], *, plain_only: bool = False) -> None:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        problems.append(f"{where}: not a text object")
        return
    if plain_only and obj["type"] != "plain_text":
        problems.append(f"{where}: must be plain_text")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        problems.append(f"{where}: empty text")
    elif len(text) > limit:
        problems.append(f"{where}: text is {len(text)} chars (max {limit})")


def _button(el: dict[str, Any], where: str, problems: list[str]) -> None:
    _text(el.get("text"), f"{where}.text", BUTTON_TEXT, problems, plain_only=True)
    if "value" in el and len(str(el["value"])) > BUTTON_VALUE:
        problems.append(f"{where}.value: {len(el['value'])} chars (max {BUTTON_VALUE})")
    if "url" in el and len(str(el["url"])) > URL:
        problems.append(f"{where}.url too long")
    if el.get("style") not in (None, "primary", "danger"):
        problems.append(f"{where}.style invalid: {el.get('style')}")


def _feedback_buttons(el: Any, where: str, problems: list[str], action_ids: set[str]) -> None:
    """docs.slack.dev/reference/block-kit/block-elements/feedback-buttons-element: both buttons required,
    each a plain_text ≤ 75, a value ≤ 2000 and an optional accessibility_label ≤ 75."""
    if not isinstance(el, dict) or el.get("type") != "feedback_buttons":
        problems.append(f"{where}: only feedback_buttons are checked in context_actions")
        return
    aid = el.get("action_id")
    if aid is not None:
        if len(aid) > ACTION_ID or aid in action_ids:
            problems.append(f"{where}.action_id too long or not unique")
        action_ids.add(aid)
    for half in ("positive_button", "negative_button"):
        button = el.get(half)
        if not isinstance(button, dict):
            problems.append(f"{where}.{half} missing")
            continue
        _text(button.get("text"), f"{where}.{half}.text", BUTTON_TEXT, problems, plain_only=True)
        value = button.get("value")
        if not isinstance(value, str) or not value or len(value) > BUTTON_VALUE:
            problems.append(f"{where}.{half}.value missing or longer than {BUTTON_VALUE}")
        if len(str(button.get("accessibility_label", ""))) > BUTTON_TEXT:
            problems.append(f"{where}.{half}.accessibility_label too long")


def _element(el: Any, where: str, problems: list[str], action_ids: set[str]) -> None:
    if not isinstance(el, dict):
        problems.append(f"{where}: not an object")
        return
    aid = el.get("action_id")
    if aid is not None:
        if len(aid) > ACTION_ID:
            problems.append(f"{where}.action_id too long")
        if aid in action_ids:
            problems.append(f"{where}.action_id {aid!r} is not unique in its block")
        action_ids.add(aid)
    kind = el.get("type")
    if kind == "button":
        _button(el, where, problems)
    elif kind == "plain_text_input":
        max_length = el.get("max_length", PLAIN_INPUT_MAX)
        if max_length > PLAIN_INPUT_MAX:
            problems.append(f"{where}.max_length above {PLAIN_INPUT_MAX}")
        if len(el.get("initial_value", "")) > max_length:
            problems.append(f"{where}.initial_value longer than max_length")
        if "placeholder" in el:
            _text(el["placeholder"], f"{where}.placeholder", 150, problems, plain_only=True)
    elif kind == "static_select":
        options = el.get("options") or []
        if not 1 <= len(options) <= OPTIONS:
            problems.append(f"{where}: {len(options)} options")
        for j, opt in enumerate(options):
            _text(opt.get("text"), f"{where}.options[{j}].text", OPTION_TEXT, problems, plain_only=True)
            if len(str(opt.get("value", ""))) > OPTION_VALUE:
                problems.append(f"{where}.options[{j}].value too long")
        if "initial_option" in el and el["initial_option"] not in options:
            problems.append(f"{where}.initial_option is not one of the options")
    else:
        problems.append(f"{where}: unsupported element type {kind!r}")


def check_blocks(blocks: Any, *, surface: str = "message") -> list[str]:
    problems: list[str] = []
    if not isinstance(blocks, list):
        return ["blocks is not a list"]
    limit = MESSAGE_BLOCKS if surface == "message" else VIEW_BLOCKS
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks (max {limit} in a {surface})")
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"blocks[{i}]"
        if not isinstance(block, dict):
            problems.append(f"{where}: not an object")
            continue
        bid = block.get("block_id")
        if bid is not None:
            if len(bid) > BLOCK_ID:
                problems.append(f"{where}.block_id too long")
            if bid in block_ids:
                problems.append(f"{where}.block_id {bid!r} repeated")
            block_ids.add(bid)
        kind = block.get("type")
        action_ids: set[str] = set()
        if kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: section needs text or fields")
            if "text" in block:
                _text(block["text"], f"{where}.text", TEXT_OBJECT, problems)
            for j, f in enumerate(block.get("fields") or []):
                _text(f, f"{where}.fields[{j}]", SECTION_FIELD, problems)
            if len(block.get("fields") or []) > 10:
                problems.append(f"{where}: more than 10 fields")
            if "accessory" in block:
                _element(block["accessory"], f"{where}.accessory", problems, action_ids)
        elif kind == "header":
            _text(block.get("text"), f"{where}.text", HEADER, problems, plain_only=True)
        elif kind == "context":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= CONTEXT_ELEMENTS:
                problems.append(f"{where}: {len(elements)} context elements (1..{CONTEXT_ELEMENTS})")
            for j, el in enumerate(elements):
                _text(el, f"{where}.elements[{j}]", TEXT_OBJECT, problems)
        elif kind == "actions":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= ACTIONS_ELEMENTS:
                problems.append(f"{where}: {len(elements)} action elements (1..{ACTIONS_ELEMENTS})")
            for j, el in enumerate(elements):
                _element(el, f"{where}.elements[{j}]", problems, action_ids)
        elif kind == "context_actions":  # docs.slack.dev/reference/block-kit/blocks/context-actions-block
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= CONTEXT_ACTIONS_ELEMENTS:
                problems.append(f"{where}: {len(elements)} context_actions elements (1..{CONTEXT_ACTIONS_ELEMENTS})")
            for j, el in enumerate(elements):
                _feedback_buttons(el, f"{where}.elements[{j}]", problems, action_ids)
        elif kind == "input":
            if surface == "message":
                problems.append(f"{where}: input blocks belong in modals")
            _text(block.get("label"), f"{where}.label", INPUT_LABEL, problems, plain_only=True)
            _element(block.get("element"), f"{where}.element", problems, action_ids)
        elif kind == "divider":
            pass
        else:
            problems.append(f"{where}: unsupported block type {kind!r}")
    return problems


def check_view(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["view is not an object"]
    problems: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        problems.append(f"view.type {kind!r}")
    if kind == "modal":
        for key in ("title", "submit", "close"):
            if key in view or key == "title":
                _text(view.get(key), f"view.{key}", VIEW_TITLE, problems, plain_only=True)
        if any(b.get("type") == "input" for b in view.get("blocks") or []) and "submit" not in view:
            problems.append("view: a modal with inputs needs submit")
    if len(view.get("private_metadata", "")) > PRIVATE_METADATA:
        problems.append("view.private_metadata too long")
    if len(view.get("callback_id", "")) > CALLBACK_ID:
        problems.append("view.callback_id too long")
    problems += check_blocks(view.get("blocks") or [], surface=kind or "modal")
    return problems


def check_message(args: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if "text" in args and len(str(args["text"])) > MESSAGE_TEXT:
        problems.append("text too long")
    if "blocks" in args:
        problems += check_blocks(args["blocks"], surface="message")
    if not args.get("text") and not args.get("blocks"):
        problems.append("message without text or blocks")
    return problems
