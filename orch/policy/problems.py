"""A problem found in a policy file, always at a position: ``PATH:LINE:COL: message``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    column: int
    message: str

    def __post_init__(self) -> None:
        # One problem is one line, whatever odd keys or values the file holds.
        if len(self.message.splitlines()) > 1 or "\x00" in self.message:
            clean = self.message.encode("unicode_escape").decode("ascii")
            object.__setattr__(self, "message", clean)
        if len(self.message) > 400:
            object.__setattr__(self, "message", self.message[:397] + "...")

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "column": self.column, "message": self.message}
