"""Checks of one ``protect:`` entry, shared by lint and load (matching lives in orch/engine/limits.py)."""

from __future__ import annotations

from orch.vocab import GLOB_CHARS


def _glob_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a well-formed fnmatch glob (an unclosed or empty ``[...]``), or None."""
    i = 0
    while i < len(pattern):
        if pattern[i] == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] in "!^":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1  # a leading ] is a literal member of the set
            close = pattern.find("]", j)
            if close < 0:
                return f"bad glob {pattern!r}: '[' at position {i + 1} is never closed (write [[] for a literal [)"
            i = close
        i += 1
    return None


def check_protect_entry(key: str, text: str) -> str | None:
    """Why one rendered ``protect`` entry is unusable, or None (lint and load share this)."""
    if not text.strip():
        return f"empty protect {key} entry"
    if text != text.strip():
        return f"protect {key} entry {text!r} has leading or trailing spaces"
    if key == "names":
        if "/" in text:
            return f"protect name {text!r} contains '/': names match the base name only; use protect.paths"
        return _glob_problem(text)
    if key == "paths":
        if not text.startswith("/"):
            return f"protect path {text!r} must start with '/' (an ICA path such as /ilmn-analyses/RUN/)"
        return _glob_problem(text)
    if key == "ids" and any(c in text for c in GLOB_CHARS):
        return f"protect id {text!r} contains a glob character: ids match exactly; use names or paths for globs"
    return None
