"""The ledger's tables (schema 2) and the in-place upgrade from schema 1 (orch <= 829ade2).

Schema 2 adds: hand-off records keyed by (group, policy, analysis) with the run folder name;
group and wall-clock time on audit entries; applied plans by digest; pending hand-offs; route
states per account; a memo of immutable facts. A schema-1 ledger is upgraded in one transaction
the first time orch opens it for writing, after a copy of it is kept beside it
(``<state>.schema1.bak``); its hand-off records become UNASSIGNED (they count for every group,
exactly as they did before).
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile

SCHEMA_VERSION = 2
LEGACY_POLICY = "legacy-import"

#: the run folder at the start of an analysis reference or userReference (YYMMDD or YYYYMMDD,
#: instrument, run number, flowcell), as the planner's ``run_folder`` reads it
_RUN_FOLDER = re.compile(r"^((?:\d{6}|\d{8})_[A-Za-z0-9-]+_\d+_[A-Za-z0-9-]+?)(?=$|[^A-Za-z0-9-])")

META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"

_MANAGED = """
CREATE TABLE IF NOT EXISTS managed (
    grp         TEXT NOT NULL DEFAULT '',
    policy      TEXT NOT NULL,
    analysis_id TEXT NOT NULL,
    reference   TEXT NOT NULL DEFAULT '',
    run_id      TEXT NOT NULL DEFAULT '',
    managed_at  TEXT NOT NULL,
    project_id  TEXT,
    source      TEXT,
    PRIMARY KEY (grp, policy, analysis_id)
);
CREATE INDEX IF NOT EXISTS managed_analysis ON managed(analysis_id);
"""

_AUDIT_V1 = """
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
"""
_AUDIT_V2_COLUMNS = ("ALTER TABLE audit ADD COLUMN grp TEXT NOT NULL DEFAULT ''",
                     "ALTER TABLE audit ADD COLUMN wall_time TEXT")

_REST = """
CREATE INDEX IF NOT EXISTS audit_requests ON audit(resource_kind, action, time);
CREATE TABLE IF NOT EXISTS cache (
    key       TEXT PRIMARY KEY,
    value     TEXT NOT NULL,
    stored_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS applied_plans (
    digest          TEXT PRIMARY KEY,
    applied_at      TEXT NOT NULL,
    wall_time       TEXT NOT NULL,
    applies         INTEGER NOT NULL DEFAULT 1,
    last_applied_at TEXT NOT NULL,
    source          TEXT NOT NULL DEFAULT '',
    summary         TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS pending (
    grp         TEXT NOT NULL,
    policy      TEXT NOT NULL,
    analysis_id TEXT NOT NULL,
    reason      TEXT NOT NULL,
    since       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (grp, policy, analysis_id)
);
CREATE TABLE IF NOT EXISTS route_states (
    account  TEXT NOT NULL,
    route    TEXT NOT NULL,
    state    TEXT NOT NULL CHECK (state IN ('confirmed', 'unavailable', 'unknown')),
    since    TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (account, route)
);
CREATE TABLE IF NOT EXISTS apply_lock (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    lock_file TEXT NOT NULL,
    pid       INTEGER NOT NULL,
    host      TEXT NOT NULL,
    since     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS facts (
    kind      TEXT NOT NULL,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    stored_at TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
"""


def run_id_of(reference: str) -> str:
    """The run folder name a reference starts with, else the reference itself."""
    m = _RUN_FOLDER.match(reference or "")
    return m.group(1) if m else (reference or "")


def version_of(db: sqlite3.Connection) -> int:
    """0 for an empty database, else the recorded schema version (1 when a schema-1 ledger lost it)."""
    has_meta = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() if has_meta else None
    if row is not None:
        return int(row[0])
    has_tables = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='managed'").fetchone()
    return 1 if has_tables else 0


def create(db: sqlite3.Connection) -> None:
    """Create schema 2 in an empty database (or complete a schema-2 one)."""
    _script(db, META + _MANAGED + _AUDIT_V1)
    cols = {r[1] for r in db.execute("PRAGMA table_info(audit)")}
    for stmt in _AUDIT_V2_COLUMNS:
        if stmt.split(" COLUMN ")[1].split()[0] not in cols:
            db.execute(stmt)
    _script(db, _REST)
    db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))


def _script(db: sqlite3.Connection, sql: str) -> None:
    """Run DDL statement by statement (``executescript`` would commit the caller's transaction)."""
    for stmt in sql.split(";"):
        if stmt.strip():
            db.execute(stmt)


def upgrade_1_to_2(db: sqlite3.Connection) -> None:
    """Schema 1 -> 2 inside the caller's transaction (the caller re-checks the version inside it)."""
    rows = db.execute("SELECT analysis_id, reference, managed_at, policy, project_id, source FROM managed").fetchall()
    db.execute("ALTER TABLE managed RENAME TO managed_schema1")
    db.execute("DROP INDEX IF EXISTS managed_analysis")
    _script(db, _MANAGED.replace("CREATE TABLE IF NOT EXISTS", "CREATE TABLE"))
    for analysis_id, reference, managed_at, policy, project_id, source in rows:
        # a legacy import kept the old table's run_id as the reference; orch's own records kept the
        # analysis reference, whose leading run folder is the run_id
        run_id = reference if policy == LEGACY_POLICY else run_id_of(reference)
        db.execute("INSERT INTO managed(grp, policy, analysis_id, reference, run_id, managed_at, project_id, source) "
                   "VALUES ('', ?, ?, ?, ?, ?, ?, ?)",
                   (policy, analysis_id, reference or "", run_id, managed_at, project_id, source))
    db.execute("DROP TABLE managed_schema1")
    create(db)


def backup_path(path: str) -> str:
    return os.path.realpath(path) + ".schema1.bak"


def keep_copy(db: sqlite3.Connection, path: str) -> str | None:
    """Copy the database to ``backup_path`` (kept if one is already there); its path, or None."""
    target = backup_path(path)
    if os.path.exists(target):
        return target
    fd, partial = tempfile.mkstemp(prefix=os.path.basename(target) + ".", dir=os.path.dirname(target))
    os.close(fd)
    copy = sqlite3.connect(partial)
    try:
        db.backup(copy)
    finally:
        copy.close()
    os.replace(partial, target)  # whole or not at all
    return target
