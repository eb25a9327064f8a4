"""``orch test --update``: write each case's current plan as its expectation, keeping the rest of
the file (comments, order, the inline world) as it was (ruamel.yaml round trip)."""

from __future__ import annotations

import io
import os
import tempfile
from typing import Any, Iterable

from orch.errors import ConfigError
from orch.testing.runner import CaseResult, error_text


def expectation(action: dict[str, Any], unique_names: set[tuple[str, str]] = frozenset()) -> dict[str, Any]:
    """The shortest expectation that names this action for a reviewer: a file's name when no other
    resource of its kind in the plan has it, else the path; else the name, else the id; the policy;
    ``then`` of an unarchive."""
    res = action.get("resource") or {}
    out: dict[str, Any] = {"action": action["action"], "kind": res.get("kind")}
    path, name = res.get("path"), res.get("name")
    if path and not (name and not path.endswith("/") and (res.get("kind"), name) in unique_names):
        out["path"] = path
    elif name:
        out["name"] = res["name"]
    else:
        out["id"] = res.get("id")
    then = (action.get("params") or {}).get("then")
    if then:
        out["then"] = then
    out["policy"] = action.get("policy")
    return out


def _unique_names(actions: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(kind, name) pairs that name exactly one resource of the plan."""
    ids: dict[tuple[str, str], set[str]] = {}
    for a in actions:
        res = a.get("resource") or {}
        ids.setdefault((res.get("kind"), res.get("name")), set()).add(res.get("id"))
    return {key for key, found in ids.items() if len(found) == 1}


def update_file(path: str, results: Iterable[CaseResult]) -> int:
    """Rewrite ``expect`` (and ``errors``) of every case of ``path`` that planned; returns how many."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    yaml = YAML()  # round trip
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    done = 0
    for r in results:
        if r.plan is None:
            continue
        case = data["cases"][r.case.index]
        seq = CommentedSeq()
        unique = _unique_names(r.plan["actions"])
        for a in r.plan["actions"]:
            item = CommentedMap(expectation(a, unique))
            item.fa.set_flow_style()
            seq.append(item)
        if not seq:
            seq.fa.set_flow_style()
        case["expect"] = seq
        errors = [error_text(e) for e in r.plan.get("errors") or []]
        if errors:
            case["errors"] = errors
        elif "errors" in case:
            del case["errors"]
        done += 1
    buf = io.StringIO()
    yaml.dump(data, buf)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".orchtest-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(buf.getvalue())
    os.replace(tmp, path)
    return done
