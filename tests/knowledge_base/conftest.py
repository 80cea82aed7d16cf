"""Knowledge-base fixtures: a small article folder, the real encoder, a migrated KB service."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.encoding import DIM


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


VPN = """
---
title: Connecting to the VPN
tags: [vpn, network]
owner: net@example.com
review_by: 2099-01-01
aliases:
  - GlobalProtect set-up
---

Use GlobalProtect to reach internal systems from home.

## Connect

Click the globe icon, enter vpn.example.com and approve the MFA prompt on your phone.

## Personal computers

The VPN accepts company laptops only; personal computers cannot connect.
"""

PRINTING = """
---
title: Printing
tags: [printer]
owner: workplace@example.com
---

## Print in the office

Print to the FollowMe queue and tap your badge on any printer to release the job.
"""

ADMIN = """
---
title: Break-glass admin accounts
audience: [it-staff]
owner: identity@example.com
---

## Break-glass accounts

The two emergency break-glass account passwords are sealed in the office safes.
"""


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    root = tmp_path / "articles"
    write(root, "network/vpn.md", VPN)
    write(root, "help/printing.md", PRINTING)
    write(root, "it-staff/admin.md", ADMIN)
    return root


@pytest.fixture(scope="session")
def encoder():
    """The real sentence encoder, loaded once for the whole session (~10 s)."""
    from intents.encoder import get_encoder

    return get_encoder()


class CountingEncoder:
    """Wraps the real encoder and records which texts it was asked to encode."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.dim = DIM
        self.seen: list[str] = []

    def encode(self, texts, **kw):
        self.seen.extend(texts)
        return self.inner.encode(texts, **kw)

    def encode_one(self, text):
        self.seen.append(text)
        return self.inner.encode_one(text)


@pytest.fixture
def counting_encoder(encoder):
    return CountingEncoder(encoder)


@pytest.fixture
def kb_settings(make_settings, database_url, articles):
    return make_settings(database_url, kb={"articles_dir": str(articles)})


@pytest.fixture
def kb(kb_settings, migrated_db, counting_encoder):
    from knowledge_base.factory import build_knowledge_base

    return build_knowledge_base(kb_settings.kb, migrated_db, lambda: counting_encoder)
