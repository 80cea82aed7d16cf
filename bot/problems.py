"""A problem found in a file, with where it is: the one shape every validator reports in."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """``path:line: message``; ``line`` is None when the problem is about the whole file."""

    path: str
    line: int | None
    message: str
    severity: Severity = "error"

    @property
    def location(self) -> str:
        """``path:line`` (or just ``path``)."""
        return f"{self.path}:{self.line}" if self.line else self.path

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for ``--json`` output)."""
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


__all__ = ["Problem", "Severity"]
