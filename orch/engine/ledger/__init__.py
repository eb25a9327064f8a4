"""orch's local state (SQLite at ``--state``): hand-off records per group, audit log, caches, apply lock.

``core`` holds the Ledger and its hand-off/audit tables, ``state`` the tables other issues keep
their memory in, ``legacy`` the old script's managed table, ``lock`` the apply lock, ``schema``
the tables and the upgrade of older ledgers.
"""

from orch.engine.ledger.core import BSSH_ASYNC_WINDOW, Ledger
from orch.engine.ledger.legacy import LEGACY_HEADER, ImportReport, parse_legacy
from orch.engine.ledger.records import (ROUTE_STATES, UNASSIGNED, AppliedPlan, AuditEntry, ManagedAnalysis,
                                        PendingHandoff, RouteState)
from orch.engine.ledger.schema import LEGACY_POLICY, SCHEMA_VERSION

__all__ = ["BSSH_ASYNC_WINDOW", "LEGACY_HEADER", "LEGACY_POLICY", "ROUTE_STATES", "SCHEMA_VERSION", "UNASSIGNED",
           "AppliedPlan", "AuditEntry", "ImportReport", "Ledger", "ManagedAnalysis", "PendingHandoff", "RouteState",
           "parse_legacy"]
