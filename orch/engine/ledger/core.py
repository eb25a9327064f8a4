"""The ledger: orch's local state in SQLite (stdlib), at ``--state``.

It holds the hand-off records (group, policy, analysis: an analysis a group handed off is not
handed off again by that group), an audit log of every applied action with its outcome, a small
cache of bsshoutput.json contents keyed by (data id, version), and the tables of ``state.py``.
WAL mode and one transaction per write: a killed process loses at most the write in flight,
never a committed one. ``readonly=True`` opens the file read-only (``plan``, ``show``, history)
and never changes it; an older schema is then upgraded in a private in-memory copy.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from orch.engine.ledger import lock, schema
from orch.engine.ledger.legacy import LegacyMixin
from orch.engine.ledger.records import UNASSIGNED, AuditEntry, ManagedAnalysis
from orch.engine.ledger.state import StateMixin
from orch.errors import ConfigError
from orch.timeutil import format_ts, utcnow

if TYPE_CHECKING:
    from orch.engine.plan import ActionResult

#: BaseSpace shows no archive work in flight and a restore "can take up to 48 h": requests orch made
#: this recently whose result is not visible yet count as in progress.
BSSH_ASYNC_WINDOW = timedelta(hours=48)

_MANAGED_COLUMNS = "analysis_id, reference, managed_at, policy, project_id, source, grp, run_id"
_AUDIT_COLUMNS = ("seq, time, action_id, policy, action, resource_kind, resource_id, resource_name, outcome, "
                  "message, grp, wall_time")


class Ledger(LegacyMixin, StateMixin):
    """SQLite state at ``path`` (parent folders created unless read-only). Use as a context manager.

    Thread-safe: one connection shared by the applier's worker threads behind a lock.
    """

    def __init__(self, path: str | os.PathLike, busy_timeout_s: float = 10.0, *, readonly: bool = False):
        self.path = str(path)
        self.readonly = readonly
        self.upgraded_from: int | None = None  # the schema version found, when this open upgraded it
        self._lock = threading.RLock()
        self.file_key: tuple[int, int] | None = None  # (device, inode) while this Ledger holds the file open
        try:
            self._db = self._open_readonly(busy_timeout_s) if readonly else self._open(busy_timeout_s)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{self.path} is not a usable orch state database ({exc})") from None
        lock.opened(self.file_key)

    def _open(self, busy_timeout_s: float) -> sqlite3.Connection:
        if self.path != ":memory:":
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"cannot create the folder of the state database {self.path}: "
                                  f"{exc.strerror or exc}") from None
        db = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        self._prepare(db, keep_copy=self.path != ":memory:")
        self.file_key = lock.file_key(self.path)
        return db

    def _open_readonly(self, busy_timeout_s: float) -> sqlite3.Connection:
        if not os.path.isfile(self.path):
            raise ConfigError(f"no orch state database at {self.path} (nothing applied with this --state yet?)")
        uri = "file:" + Path(os.path.abspath(self.path)).as_posix().replace("?", "%3f").replace("#", "%23") + "?mode=ro"
        db = sqlite3.connect(uri, uri=True, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
        found = schema.version_of(db)
        self._refuse_newer(found)
        if found == schema.SCHEMA_VERSION:
            self.file_key = lock.file_key(self.path)
            return db
        copy = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        db.backup(copy)
        db.close()
        self._prepare(copy, keep_copy=False)
        return copy

    def _prepare(self, db: sqlite3.Connection, keep_copy: bool) -> None:
        """Create schema 2, or upgrade an older ledger in place (one transaction, version re-read in it)."""
        db.execute(schema.META)
        found = schema.version_of(db)
        if found == schema.SCHEMA_VERSION:
            return
        self._refuse_newer(found)
        if found == 1 and keep_copy:  # before the transaction: a backup cannot read through one
            schema.keep_copy(db, self.path)
        db.execute("BEGIN IMMEDIATE")
        try:
            found = schema.version_of(db)
            self._refuse_newer(found)
            if found == 1:
                schema.upgrade_1_to_2(db)
                self.upgraded_from = 1
            elif found == 0:
                schema.create(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _refuse_newer(self, found: int) -> None:
        if found > schema.SCHEMA_VERSION:
            raise ConfigError(f"{self.path} was written by a newer orch (state schema {found}); upgrade orch")

    # -- lifecycle
    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._db.close()
            lock.closed(self.file_key)
            self.file_key = None

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        if self.readonly:
            raise ConfigError(f"{self.path} is open read-only: nothing can be recorded")
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

    # -- hand-off records
    @staticmethod
    def _insert_managed(db: sqlite3.Connection, *, group: str, policy: str, analysis_id: str, reference: str,
                        run_id: str, managed_at: str, project_id: str | None = None,
                        source: str | None = None) -> bool:
        """The one INSERT of a hand-off record; True if it was new (an existing record is kept)."""
        cur = db.execute(
            f"INSERT OR IGNORE INTO managed({_MANAGED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (analysis_id.lower(), reference or "", managed_at, policy, project_id, source, group or UNASSIGNED,
             run_id or ""))
        return cur.rowcount == 1

    @staticmethod
    def _has_record(db: sqlite3.Connection, analysis_id: str, group: str) -> bool:
        return db.execute("SELECT 1 FROM managed WHERE analysis_id = ? AND grp = ? LIMIT 1",
                          (analysis_id.lower(), group)).fetchone() is not None

    def is_managed(self, analysis_id: str, group: str | None = None, policy: str | None = None) -> bool:
        """Handed off by anyone (``group`` None), or by ``group`` (by its ``policy`` if given).

        UNASSIGNED records (schema 1, or imported without a group into a group-less ledger) count
        for every group and policy: they were made when one group was all a ledger knew.
        """
        sql = "SELECT 1 FROM managed WHERE analysis_id = ?"
        args: tuple = (analysis_id.lower(),)
        if group is not None:
            sql += " AND (grp = ? OR grp = '')"
            args += (group,)
            if policy is not None:
                sql += " AND (policy = ? OR grp = '')"
                args += (policy,)
        return bool(self._query(sql + " LIMIT 1", args))

    def managed_ids(self, group: str | None = None) -> set[str]:
        """Ids of analyses handed off (by ``group``, UNASSIGNED records included, if given)."""
        if group is None:
            return {r[0] for r in self._query("SELECT DISTINCT analysis_id FROM managed")}
        return {r[0] for r in self._query("SELECT DISTINCT analysis_id FROM managed WHERE grp = ? OR grp = ''",
                                          (group,))}

    def managed(self, group: str | None = None) -> list[ManagedAnalysis]:
        """Hand-off records (exactly ``group``'s if given), by analysis, group, policy."""
        where, args = (" WHERE grp = ?", (group,)) if group is not None else ("", ())
        return [ManagedAnalysis(*r) for r in self._query(
            f"SELECT {_MANAGED_COLUMNS} FROM managed{where} ORDER BY analysis_id, grp, policy", args)]

    def groups(self) -> set[str]:
        """The groups that recorded hand-offs here (UNASSIGNED left out)."""
        return {r[0] for r in self._query("SELECT DISTINCT grp FROM managed WHERE grp != ''")}

    def mark_managed(self, analysis_id: str, reference: str, policy: str, project_id: str | None = None, *,
                     group: str = UNASSIGNED, run_id: str | None = None, source: str | None = None,
                     when: datetime | None = None) -> bool:
        """Record ``group``'s hand-off of the analysis; True if new (an existing record is kept)."""
        with self._tx() as db:
            return self._insert_managed(db, group=group, policy=policy, analysis_id=analysis_id,
                                        reference=reference, run_id=run_id or schema.run_id_of(reference),
                                        managed_at=format_ts(when or utcnow()), project_id=project_id,
                                        source=source)

    # -- audit log
    def record(self, result: "ActionResult", *, when: datetime | None = None) -> None:
        """Append one applied action's result to the audit log.

        A ``mark_managed`` that is ``done`` also records the hand-off, in the same transaction, for
        the action's group and for its policy and each policy it was merged with (``won_over``).
        """
        a = result.action
        outcome = str(result.outcome)
        stamp = format_ts(when or utcnow())
        with self._tx() as db:
            self._insert_audit(db, stamp, a.id, a.policy, a.action, a.resource.kind, a.resource.id,
                               a.resource.name, outcome, result.message, a.group)
            if a.action == "mark_managed" and outcome == "done":
                r = a.resource
                reference = r.get("reference") or r.name or ""
                run_id = schema.run_id_of(r.get("user_reference") or reference)
                for policy in dict.fromkeys([a.policy, *a.won_over]):
                    self._insert_managed(db, group=a.group, policy=policy, analysis_id=r.id, reference=reference,
                                         run_id=run_id, managed_at=stamp, project_id=r.project_id)

    def record_raw(self, *, action_id: str, policy: str, action: str, resource_kind: str, resource_id: str,
                   outcome: str, resource_name: str = "", message: str = "", group: str = UNASSIGNED,
                   when: datetime | None = None) -> None:
        """Append an audit entry from its fields (no hand-off record: use ``mark_managed`` for that)."""
        missing = [n for n, v in (("action_id", action_id), ("policy", policy), ("action", action),
                                  ("resource_kind", resource_kind), ("resource_id", resource_id),
                                  ("outcome", outcome)) if not v]
        if missing:
            raise ValueError(f"record_raw() needs {', '.join(missing)}")
        with self._tx() as db:
            self._insert_audit(db, format_ts(when or utcnow()), action_id, policy, action, resource_kind,
                               resource_id, resource_name, outcome, message, group)

    @staticmethod
    def _insert_audit(db: sqlite3.Connection, stamp: str, action_id: str, policy: str, action: str,
                      resource_kind: str, resource_id: str, resource_name: str | None, outcome: str,
                      message: str | None, group: str | None) -> None:
        db.execute("INSERT INTO audit(time, action_id, policy, action, resource_kind, resource_id, resource_name, "
                   "outcome, message, grp, wall_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (stamp, action_id, policy, action, resource_kind, resource_id, resource_name or "", outcome,
                    message or "", group or UNASSIGNED, format_ts(utcnow())))

    def history(self, limit: int | None = 50, *, group: str | None = None,
                since: datetime | None = None) -> list[AuditEntry]:
        """The most recent audit entries, newest first (of ``group``; at or after ``since``, run clock)."""
        conds, args = [], []
        if group is not None:
            conds.append("grp = ?")
            args.append(group)
        if since is not None:
            conds.append("time >= ?")
            args.append(format_ts(since))
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        tail = " LIMIT ?" if limit is not None else ""
        if limit is not None:
            args.append(int(limit))
        return [AuditEntry(*r) for r in self._query(
            f"SELECT {_AUDIT_COLUMNS} FROM audit{where} ORDER BY seq DESC{tail}", tuple(args))]

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

    def cache_get(self, key: str | tuple) -> object | None:
        """The cached JSON value for ``key`` (e.g. ``(data_id, objectETag)``), or None."""
        rows = self._query("SELECT value FROM cache WHERE key = ?", (self._cache_key(key),))
        return json.loads(rows[0][0]) if rows else None

    def cache_put(self, key: str | tuple, value: object) -> None:
        """Remember ``value``; a read-only ledger keeps nothing (the next run reads it again)."""
        if self.readonly:
            return
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO cache(key, value, stored_at) VALUES (?, ?, ?)",
                       (self._cache_key(key), json.dumps(value, sort_keys=True), format_ts(utcnow())))

    # -- apply lock
    def apply_lock(self, timeout_s: float = 10.0, poll_s: float = 0.1) -> contextlib.AbstractContextManager[None]:
        """Hold the apply lock; wait up to ``timeout_s`` for another apply, then raise OrchError."""
        return lock.apply_lock(self, timeout_s, poll_s)

