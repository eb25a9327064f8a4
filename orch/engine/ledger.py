"""The ledger: orch's local state in SQLite (stdlib), at ``--state``.

It holds the managed analyses (an analysis handed off once is never handed off again), an
audit log of every applied action with its outcome, and a small cache of bsshoutput.json
contents keyed by (data id, version). WAL mode and one transaction per write: a killed
process loses at most the write in flight, never a committed one.

``apply_lock`` (``fcntl.flock`` on the sibling ``<state>.lock``) keeps two ``orch apply``
runs from acting at the same time. ``import_legacy``/``export_legacy`` read and write the
old ``analyses_managed_table.txt`` (``analysis_id_managed,run_id``), tolerating its damage.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator

from orch.errors import ConfigError, OrchError
from orch.timeutil import format_ts, utcnow

LEGACY_HEADER = "analysis_id_managed,run_id"
LEGACY_POLICY = "legacy-import"
SCHEMA_VERSION = 1

#: BaseSpace shows no archive work in flight and a restore "can take up to 48 h": requests orch made
#: this recently whose result is not visible yet count as in progress.
BSSH_ASYNC_WINDOW = timedelta(hours=48)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS managed (
    analysis_id TEXT PRIMARY KEY,
    reference   TEXT NOT NULL DEFAULT '',
    managed_at  TEXT NOT NULL,
    policy      TEXT NOT NULL,
    project_id  TEXT,
    source      TEXT
);
CREATE TABLE IF NOT EXISTS audit (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    time          TEXT NOT NULL,
    action_id     TEXT NOT NULL,
    policy        TEXT NOT NULL,
    action        TEXT NOT NULL,
    resource_kind TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    resource_name TEXT NOT NULL DEFAULT '',
    outcome       TEXT NOT NULL,
    message       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_action ON audit(action_id);
CREATE TABLE IF NOT EXISTS cache (
    key       TEXT PRIMARY KEY,
    value     TEXT NOT NULL,
    stored_at TEXT NOT NULL
);
"""

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID_RE = re.compile(rf"^{_UUID}$")
#: where a row starts: an analysis id followed by a comma (rows glued together are split here)
_ROW_START = re.compile(rf"({_UUID}),")
#: a reference that ends in two ids: the second is a half row (id only) glued to it
_TRAILING_ID = re.compile(rf"({_UUID})({_UUID})$")


@dataclass(frozen=True)
class ManagedAnalysis:
    analysis_id: str
    reference: str
    managed_at: str
    policy: str
    project_id: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    time: str
    action_id: str
    policy: str
    action: str
    resource_kind: str
    resource_id: str
    resource_name: str
    outcome: str
    message: str


@dataclass
class ImportReport:
    """What ``import_legacy`` did; ``str()`` is what ``orch ledger import`` prints."""

    source: str
    imported: list[tuple[str, str]] = field(default_factory=list)  # (analysis id, reference)
    already_present: list[str] = field(default_factory=list)
    duplicates: int = 0
    glued_lines: int = 0  # lines that held more than one row
    skipped: list[tuple[int, str, str]] = field(default_factory=list)  # (line, text, why)
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (line, what)

    def __str__(self) -> str:
        parts = [f"imported {len(self.imported)} managed "
                 f"analys{'is' if len(self.imported) == 1 else 'es'} from {self.source}"]
        notes = []
        if self.already_present:
            notes.append(f"{len(self.already_present)} already in the ledger")
        if self.duplicates:
            notes.append(f"{self.duplicates} duplicate row{'s' if self.duplicates != 1 else ''} ignored")
        if self.glued_lines:
            notes.append(f"{self.glued_lines} line{'s' if self.glued_lines != 1 else ''} with rows glued "
                         f"together split")
        if self.skipped:
            notes.append(f"{len(self.skipped)} skipped")
        if notes:
            parts[0] += f" ({', '.join(notes)})"
        for line, text, why in self.skipped:
            parts.append(f"skipped line {line}: {why}: {_clip(text)!r}")
        for line, what in self.warnings:
            parts.append(f"warning line {line}: {what}")
        return "\n".join(parts)


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def parse_legacy(text: str) -> tuple[list[tuple[int, str, str]], ImportReport]:
    """Split the legacy table into rows ``(line, analysis_id, reference)`` and a report of damage.

    Tolerates: a missing final newline, blank lines, CRLF, a missing header, rows glued together
    (a row is ``UUID,reference``, so every ``UUID,`` starts one), a half row holding just an id
    (alone, glued after a row, or glued before the next one), and skips (with a reason) fragments that hold no complete analysis id.
    Duplicates are left to the caller.
    """
    report = ImportReport(source="")
    rows: list[tuple[int, str, str]] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ends_with_newline = text.endswith(("\n", "\r"))
    last_no = max((i for i, ln in enumerate(lines, 1) if ln.strip()), default=0)
    for no, raw in enumerate(lines, 1):
        line = raw.strip().lstrip("\ufeff")
        if not line:
            continue
        if line.startswith(LEGACY_HEADER):
            line = line[len(LEGACY_HEADER):]  # a header with a row glued to it
            if not line:
                continue
        elif no == 1 and line.lower().startswith("analysis_id"):
            report.skipped.append((no, raw, "unknown header"))
            continue
        starts = list(_ROW_START.finditer(line))
        if not starts:
            if _UUID_RE.match(line):  # an id whose comma and reference were never written
                rows.append((no, line.lower(), ""))
                report.warnings.append((no, f"{line} has no run_id (half-written row); imported without it"))
            elif no == last_no and not ends_with_newline:
                report.skipped.append((no, raw, "half-written last row without a complete analysis id"))
            else:
                report.skipped.append((no, raw, "no analysis id (a UUID) at the start of the row"))
            continue
        if starts[0].start() > 0:
            before = line[: starts[0].start()]
            if _UUID_RE.match(before):  # "<half row id><next row>": an id whose comma and run_id were never written
                rows.append((no, before.lower(), ""))
                report.glued_lines += 1
                report.warnings.append((no, f"{before.lower()} has no run_id (half-written row); imported without it"))
            else:
                report.skipped.append((no, before, "text before the first analysis id"))
        if len(starts) > 1:
            report.glued_lines += 1
        for i, m in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(line)
            analysis_id = m.group(1).lower()
            reference = line[m.end():end].strip()
            tail = _TRAILING_ID.search(reference)
            if tail and tail.group(1).lower() == analysis_id:  # "ref-<id><half row id>"
                reference = reference[: tail.start(2)]
                rows.append((no, analysis_id, reference))
                rows.append((no, tail.group(2).lower(), ""))
                report.glued_lines += 1 if len(starts) == 1 else 0
                report.warnings.append((no, f"{tail.group(2).lower()} has no run_id (half-written row); "
                                            f"imported without it"))
                continue
            if not reference:
                report.warnings.append((no, f"{analysis_id} has no run_id (half-written row); imported without it"))
            elif "," in reference:
                report.warnings.append((no, f"{analysis_id}: extra columns after run_id ignored"))
                reference = reference.split(",", 1)[0]
            rows.append((no, analysis_id, reference))
    return rows, report


class Ledger:
    """SQLite state at ``path`` (parent folders created). Use as a context manager.

    Thread-safe: one connection shared by the applier's worker threads behind a lock.
    """

    def __init__(self, path: str | os.PathLike, busy_timeout_s: float = 10.0):
        self.path = str(path)
        self._lock = threading.RLock()
        if self.path != ":memory:":
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"cannot create the folder of the state database {self.path}: "
                                  f"{exc.strerror or exc}") from None
        try:
            self._db = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._check_version()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{self.path} is not a usable orch state database ({exc})") from None

    def _check_version(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            self._db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)",
                             (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise ConfigError(f"{self.path} was written by a newer orch (state schema {row[0]}); upgrade orch")

    # -- lifecycle
    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # -- managed analyses
    def is_managed(self, analysis_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM managed WHERE analysis_id = ?", (analysis_id.lower(),)))

    def managed_ids(self) -> set[str]:
        return {r[0] for r in self._query("SELECT analysis_id FROM managed")}

    def managed(self) -> list[ManagedAnalysis]:
        return [ManagedAnalysis(*r) for r in self._query(
            "SELECT analysis_id, reference, managed_at, policy, project_id, source FROM managed "
            "ORDER BY analysis_id")]

    def mark_managed(self, analysis_id: str, reference: str, policy: str, project_id: str | None = None,
                     *, source: str | None = None, when: datetime | None = None) -> bool:
        """Record the analysis as handed off; True if it was new (an existing entry is kept as is)."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO managed(analysis_id, reference, managed_at, policy, project_id, source) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (analysis_id.lower(), reference or "", format_ts(when or utcnow()), policy, project_id, source))
            return cur.rowcount == 1

    # -- audit log
    def record(self, result: Any = None, *, when: datetime | None = None, action_id: str | None = None,
               policy: str | None = None, action: str | None = None, resource_kind: str | None = None,
               resource_id: str | None = None, resource_name: str = "", outcome: str | None = None,
               message: str = "") -> None:
        """Append one applied action to the audit log, from an ``ActionResult`` or the fields given.

        A ``mark_managed`` result that is ``done`` also records the analysis as managed, in the
        same transaction (the resource is the analysis; ``reference`` or ``name`` is its reference).
        """
        managed = None
        if result is not None:
            if result.action.action == "mark_managed" and str(result.outcome) == "done":
                r = result.action.resource
                managed = (r.id.lower(), r.get("reference") or r.name or "", result.action.policy, r.project_id)
            a = result.action
            action_id, policy, action = a.id, a.policy, a.action
            resource_kind, resource_id, resource_name = a.resource.kind, a.resource.id, a.resource.name
            outcome, message = str(result.outcome), result.message
        missing = [n for n, v in (("action_id", action_id), ("policy", policy), ("action", action),
                                  ("resource_kind", resource_kind), ("resource_id", resource_id),
                                  ("outcome", outcome)) if not v]
        if missing:
            raise ValueError(f"record() needs {', '.join(missing)}")
        stamp = format_ts(when or utcnow())
        with self._tx() as db:
            db.execute("INSERT INTO audit(time, action_id, policy, action, resource_kind, resource_id, "
                       "resource_name, outcome, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (stamp, action_id, policy, action, resource_kind, resource_id,
                        resource_name or "", outcome, message or ""))
            if managed:
                db.execute("INSERT OR IGNORE INTO managed(analysis_id, reference, managed_at, policy, project_id, "
                           "source) VALUES (?, ?, ?, ?, ?, NULL)", (managed[0], managed[1], stamp, managed[2],
                                                                   managed[3]))

    def history(self, limit: int = 50) -> list[AuditEntry]:
        """The most recent audit entries, newest first."""
        return [AuditEntry(*r) for r in self._query(
            "SELECT seq, time, action_id, policy, action, resource_kind, resource_id, resource_name, outcome, "
            "message FROM audit ORDER BY seq DESC LIMIT ?", (int(limit),))]

    def bssh_requests(self, now: datetime) -> dict[str, str]:
        """BaseSpace archive/restore requests orch made within ``BSSH_ASYNC_WINDOW`` before ``now`` (the
        run clock the applier records in): id -> the latest of "archive" / "unarchive"."""
        return self.latest_requests(("archive", "unarchive"), ("bssh.dataset", "bssh.run"), now - BSSH_ASYNC_WINDOW)

    def latest_requests(self, actions: tuple[str, ...], resource_kinds: tuple[str, ...],
                        since: datetime) -> dict[str, str]:
        """For each resource of these kinds on which one of ``actions`` was done at or after ``since``,
        the latest such action (the planner's memory of asynchronous work a platform does not show as
        in flight: an archive followed by a restore is a restore)."""
        acts = ",".join("?" * len(actions))
        kinds = ",".join("?" * len(resource_kinds))
        rows = self._query(
            f"SELECT resource_id, action FROM audit WHERE outcome = 'done' AND action IN ({acts}) AND time >= ? "
            f"AND resource_kind IN ({kinds}) ORDER BY time, seq", (*actions, format_ts(since), *resource_kinds))
        return dict(rows)

    # -- cache (bsshoutput.json contents)
    @staticmethod
    def _cache_key(key: str | tuple) -> str:
        return "|".join(str(k) for k in key) if isinstance(key, tuple) else str(key)

    def cache_get(self, key: str | tuple) -> Any | None:
        """The cached JSON value for ``key`` (e.g. ``(data_id, objectETag)``), or None."""
        rows = self._query("SELECT value FROM cache WHERE key = ?", (self._cache_key(key),))
        return json.loads(rows[0][0]) if rows else None

    def cache_put(self, key: str | tuple, value: Any) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO cache(key, value, stored_at) VALUES (?, ?, ?)",
                       (self._cache_key(key), json.dumps(value, sort_keys=True), format_ts(utcnow())))

    # -- legacy table
    def import_legacy(self, text: str, source: str) -> ImportReport:
        """Import ``analyses_managed_table.txt``; existing entries are kept. One transaction."""
        rows, report = parse_legacy(text)
        report.source = source
        if not rows and report.skipped:
            raise ConfigError(f"{source} does not look like analyses_managed_table.txt "
                              f"({LEGACY_HEADER}): no row starts with an analysis id")
        seen: dict[str, str] = {}
        when = format_ts(utcnow())
        with self._tx() as db:
            for no, analysis_id, reference in rows:
                if analysis_id in seen:
                    report.duplicates += 1
                    if reference and seen[analysis_id] and reference != seen[analysis_id]:
                        report.warnings.append((no, f"{analysis_id} appears again with run_id {reference!r}; "
                                                    f"kept {seen[analysis_id]!r}"))
                    continue
                seen[analysis_id] = reference
                cur = db.execute(
                    "INSERT OR IGNORE INTO managed(analysis_id, reference, managed_at, policy, project_id, source) "
                    "VALUES (?, ?, ?, ?, NULL, ?)", (analysis_id, reference, when, LEGACY_POLICY, source))
                if cur.rowcount == 1:
                    report.imported.append((analysis_id, reference))
                else:
                    report.already_present.append(analysis_id)
        return report

    def export_legacy(self) -> str:
        """The managed analyses in the legacy format: header, rows sorted by id, newline-terminated."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        buf.write(LEGACY_HEADER + "\n")
        for analysis_id, reference in self._query("SELECT analysis_id, reference FROM managed ORDER BY analysis_id"):
            writer.writerow([analysis_id, reference])
        return buf.getvalue()

    # -- apply lock
    @property
    def lock_path(self) -> str:
        """Beside the real database file: a symlinked ``--state`` shares the lock of its target."""
        return (os.path.realpath(self.path) if self.path != ":memory:" else self.path) + ".lock"

    @contextlib.contextmanager
    def apply_lock(self, timeout_s: float = 10.0, poll_s: float = 0.1) -> Iterator[None]:
        """Hold the apply lock; wait up to ``timeout_s`` for another apply, then raise OrchError."""
        if self.path == ":memory:":
            yield
            return
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(f"cannot open the apply lock {self.lock_path}: {exc.strerror or exc}") from None
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = _read_holder(fd)
                        raise OrchError(
                            f"another orch apply is running on {self.path}{holder}; waited {timeout_s:g} s "
                            f"for it to finish — try again when it is done") from None
                    time.sleep(poll_s)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (process {pid})" if pid.isdigit() else ""
