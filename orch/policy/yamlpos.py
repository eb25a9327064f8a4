"""YAML with positions: plain Python values plus the line:col of every node and key.

A PyYAML loader composes the node tree (which keeps marks); we build the values ourselves so
that duplicate keys, non-scalar keys, recursive aliases and alias bombs are rejected with the
position of the offending node. Timestamps stay strings (policies compare them as text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

try:  # libyaml is much faster and keeps marks too
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

MAX_BYTES = 1024 * 1024  # policy files are a few KB; this bounds lint time to seconds
MAX_NODES = 200_000


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    pass


# Timestamps stay strings: drop the implicit timestamp resolver.
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class YamlError(ValueError):
    def __init__(self, line: int, column: int, message: str):
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message


Path = tuple


@dataclass
class Document:
    """A parsed file: ``data`` and ``positions[path] = (line, col)`` (1-based).

    ``positions`` holds every value node; ``key_positions`` every mapping key.
    """

    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def pos(self, path: Path, key: bool = False) -> tuple[int, int]:
        """Position of the node at ``path`` (or of its key), else of its nearest ancestor."""
        path = tuple(path)
        if key and path in self.key_positions:
            return self.key_positions[path]
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get((), (1, 1))


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _line_col(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def decode(raw: bytes) -> str:
    """Bytes to text; binary or non-UTF-8 input raises YamlError at the first bad byte."""
    if len(raw) > MAX_BYTES:
        raise YamlError(1, 1, f"file too large ({len(raw)} bytes; a policy file may hold at most {MAX_BYTES} bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, col = _line_col(raw[: exc.start].decode("utf-8", "replace"), exc.start)
        raise YamlError(line, col, "not a text file: invalid UTF-8 (is it binary?)") from None
    nul = text.find("\x00")
    if nul >= 0:
        line, col = _line_col(text, nul)
        raise YamlError(line, col, "not a text file: contains a NUL byte (is it binary?)")
    return text


def parse(text: str) -> Document:
    """Parse one YAML document with positions. Raises YamlError with line and column."""
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        ctx = exc.context or ""
        opens = ("while parsing a flow sequence", "while parsing a flow mapping", "while scanning a quoted scalar")
        if (exc.context_mark is not None and exc.problem and ctx in opens
                and exc.context_mark.line + 1 != line):
            # An unclosed bracket or quote: point where it opens, which is the line to fix.
            opened = ctx.replace("while parsing a ", "").replace("while scanning a ", "")
            what = (f"{exc.problem} for the {opened} that starts here "
                    f"(noticed at line {line}, column {col})")
            line, col = exc.context_mark.line + 1, exc.context_mark.column + 1
        elif exc.context and exc.problem:
            what = f"{exc.context}, {exc.problem}"
        raise YamlError(line, col, f"YAML syntax error: {what}") from None
    except yaml.reader.ReaderError as exc:
        line, col = _line_col(text, exc.position)
        raise YamlError(line, col, f"not a text file: {exc.reason}") from None
    except yaml.YAMLError as exc:
        raise YamlError(1, 1, f"YAML error: {exc}") from None
    doc = Document(data=None)
    if node is None:
        return doc
    builder = _Builder(loader, doc)
    doc.data = builder.build(node, ())
    return doc


class _Builder:
    def __init__(self, loader: Any, doc: Document):
        self.loader = loader
        self.doc = doc
        self.count = 0
        self.active: set[int] = set()

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlError(*_mark(node), f"document too large (more than {MAX_NODES} nodes, "
                                          "counting alias expansions)")
        self.doc.positions.setdefault(path, _mark(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                return self.loader.construct_object(node, deep=True)
            except yaml.YAMLError as exc:
                raise YamlError(*_mark(node), f"bad scalar: {getattr(exc, 'problem', exc)}") from None
        if id(node) in self.active:
            raise YamlError(*_mark(node), "recursive alias (a node that contains itself)")
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
        finally:
            self.active.discard(id(node))
        raise YamlError(*_mark(node), "unsupported YAML node")  # pragma: no cover

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlError(*_mark(key_node), "YAML merge keys (<<) are not supported in policy files")
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError(*_mark(key_node), "a mapping key must be a plain value, not a list or mapping")
            try:
                key = self.loader.construct_object(key_node)
            except yaml.YAMLError as exc:
                raise YamlError(*_mark(key_node), f"bad key: {getattr(exc, 'problem', exc)}") from None
            if not isinstance(key, str):
                key = str(key) if not isinstance(key, bool) else ("true" if key else "false")
            if key in out:
                first = self.doc.key_positions.get(path + (key,))
                where = f" (first at line {first[0]})" if first else ""
                raise YamlError(*_mark(key_node), f"duplicate key {key!r}{where}")
            self.doc.key_positions[path + (key,)] = _mark(key_node)
            out[key] = self.build(value_node, path + (key,))
        return out


def load_bytes(raw: bytes) -> Document:
    return parse(decode(raw))
