"""Decision fingerprints: a hash of the resource fields a decision used.

The planner stores it with each action; the executors recompute it from a fresh read and refuse
the action when it differs (the plan is stale). Both sides import it from here.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from orch.engine.plan import fingerprint
from orch.inventory import IcaAnalysis, Resource, normalise_analysis_status
from orch.timeutil import format_ts, parse_ts

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")

#: fields every decision on a resource kind depends on, whatever the filters read
BASE_FIELDS = {"ica.data": {"status", "path"}, "bssh.dataset": {"IsArchived"}, "bssh.run": {"IsArchived", "Status"},
               "ica.analysis": {"status"}}


def _canonical_value(value: Any) -> Any:
    """Timestamps as one UTC spelling (a re-read may format them differently), statuses upper-case."""
    if isinstance(value, str) and _ISO.match(value):
        try:
            return format_ts(parse_ts(value))
        except ValueError:
            return value
    return value


def decision_fingerprint(resource: Resource, fields: Iterable[str]) -> str:
    """``fingerprint`` of the fields a decision used, read from the resource as the matchers read them.

    Analysis status is compared in the V3 spelling; timestamps in one UTC spelling. The applier
    recomputes this from a fresh read and refuses the action when it differs (stale plan).
    """
    values: dict[str, Any] = {}
    for f in sorted(set(fields)):
        v = resource.attr(f, None)
        if f == "status" and isinstance(resource, IcaAnalysis) and isinstance(v, str):
            v = normalise_analysis_status(v)
        values[f] = _canonical_value(v)
    return fingerprint(values)
