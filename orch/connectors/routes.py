"""Every platform call orch makes, described once as data (the botocore way).

A ``Route`` row names the method, the path template (relative to the platform's base
URL), the media type, the paging style and limit, the batch limit, whether a repeat
of the request is harmless, and the evidence for all of it. The clients call only
through these rows (no path string lives anywhere else), ``docs/platform-contract.md``
is generated from them (``python -m orch.connectors.routes``; a test keeps it equal)
and ``orch doctor`` reports the state of the unverified ones.

Evidence levels: ``spec`` (the platform's published OpenAPI/swagger), ``public-code``
(public production code or the vendor's help pages), ``unverified`` (nothing public
settles it: guarded by orch and shown to the user).

The BaseSpace dataset delete route is unverified; a deployment sets its own with
``ORCH_BASESPACE_DATASET_DELETE_ROUTE="METHOD /path/{id}"`` (no code change).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

from orch.errors import ConfigError

ICA_V3 = "application/vnd.illumina.v3+json"
ICA_V4 = "application/vnd.illumina.v4+json"
JSON = "application/json"

SPEC, CODE, UNVERIFIED = "spec", "public-code", "unverified"
PAGING_STYLES = ("none", "ica-cursor", "ica-offset", "bssh-v2", "bssh-v1")
DATASET_DELETE_ENV = "ORCH_BASESPACE_DATASET_DELETE_ROUTE"
CONFIRMED_ENV = "ORCH_BASESPACE_CONFIRMED_ROUTES"  # "METHOD /path; ..." the operator has checked on this account

ICA_SPEC = "ICA OpenAPI (ica-openapi.yaml)"
BS_SPEC = "BaseSpace v2 swagger 5.0.0 (basespace-v2-swagger.json)"


@dataclass(frozen=True)
class Route:
    name: str  # stable key, e.g. "data.list"
    platform: str  # "ICA" | "BaseSpace"
    method: str
    path: str  # template relative to the base URL, e.g. /api/projects/{projectId}
    media: str = JSON
    paging: str = "none"
    page_limit: int | None = None  # largest page the platform serves (orch asks for it)
    batch_limit: int | None = None  # most ids per request
    retry_safe: bool = True  # a repeat of the request has the same effect (urllib3 retries it)
    level: str = SPEC
    evidence: str = ""
    note: str = ""

    @property
    def call(self) -> str:
        """``METHOD /path`` as errors and the sandbox request log name it."""
        return f"{self.method} {self.path}"

    @property
    def writes(self) -> bool:
        return self.method != "GET" and not self.name.endswith((".search", ".download_url"))


P = "/api/projects/{projectId}"
D = P + "/data/{dataId}"


def _ica(name: str, method: str, path: str, **kw) -> Route:
    kw.setdefault("media", ICA_V3)
    kw.setdefault("evidence", ICA_SPEC + ("; page size 1000 as umccr/wrapica (the spec gives no maximum)"
                                          if kw.get("paging", "none") != "none" else ""))
    return Route(name, "ICA", method, path, **kw)


def _bs(name: str, method: str, path: str, **kw) -> Route:
    return Route(name, "BaseSpace", method, path, **kw)


ICA_ROUTES: dict[str, Route] = {r.name: r for r in (
    _ica("projects.search", "GET", "/api/projects", paging="ica-cursor", page_limit=1000,
         note="free-text search; exact name matched by orch"),
    _ica("project.get", "GET", P, note="dataSharingEnabled read for linking"),
    _ica("analyses.search", "POST", P + "/analysis:search", paging="ica-cursor", page_limit=1000,
         note="a search: repeating it is harmless; answers AnalysisPagedListV4"),
    _ica("analysis.get", "GET", P + "/analyses/{analysisId}", media=ICA_V4, note="ETag read for tagging"),
    _ica("analysis.update", "PUT", P + "/analyses/{analysisId}", media=ICA_V4,
         note="sent with If-Match; a 409 is re-read and merged"),
    _ica("analysis.outputs", "GET", P + "/analyses/{analysisId}/outputs", note="no paging"),
    _ica("data.list", "GET", P + "/data", paging="ica-cursor", page_limit=1000, batch_limit=100,
         note="batch limit: id[] filters per request (URL length, orch's choice)"),
    _ica("data.get", "GET", D, note="willBeArchivedAt / willBeDeletedAt read here"),
    _ica("data.update", "PUT", D, note="orch changes only user tags (the PUT replaces them: union sent)"),
    _ica("data.download_url", "POST", D + ":createDownloadUrl"),
    _ica("data.archive", "POST", D + ":archive", note="repeat refused while ARCHIVING: re-read, in effect = done"),
    _ica("data.unarchive", "POST", D + ":unarchive"),
    _ica("data.delete", "POST", D + ":delete"),
    _ica("data.create_file", "POST", P + "/data:createFile", note="sent with an Idempotency-Key"),
    _ica("data.temp_credentials", "POST", D + ":createTemporaryCredentials",
         note="serverSideEncryptionAlgorithm / serverSideEncryptionKey passed to S3"),
    _ica("link.create", "POST", P + "/dataLinkingBatch", media=ICA_V4, batch_limit=1000,
         note="V3 advises <= 25,000 links per batch; orch sends 1000; a repeat reports ALREADY_LINKED"),
    _ica("link.get", "GET", P + "/dataLinkingBatch/{batchId}"),
    _ica("link.items", "GET", P + "/dataLinkingBatch/{batchId}/items", media=ICA_V4, paging="ica-cursor",
         page_limit=1000),
)}

BS_ROUTES: dict[str, Route] = {r.name: r for r in (
    _bs("projects.list", "GET", "/v1pre3/users/current/projects", paging="bssh-v1", page_limit=1024,
        level=CODE, evidence="no v2 list in the swagger; v1pre3 list used by keng404/umich_orchestrator "
                             "(bssh_utils.py) and CZ ID; Limit max 1024 per developer.basespace.illumina.com"),
    _bs("token.current", "GET", "/v1pre3/oauthv2/token/current", level=CODE,
        evidence="keng404/umich_orchestrator bssh_utils.py (Response.Scopes)"),
    _bs("user.current", "GET", "/v2/users/current", evidence=BS_SPEC, note="doctor: token check"),
    _bs("project.datasets", "GET", "/v2/projects/{id}/datasets", paging="bssh-v2", page_limit=1024,
        evidence=BS_SPEC + "; Limit max 1024 (help pages; a page may be shorter than asked)"),
    _bs("dataset.get", "GET", "/v2/datasets/{id}", evidence=BS_SPEC),
    _bs("runs.list", "GET", "/v2/runs", paging="bssh-v2", page_limit=1024, evidence=BS_SPEC),
    _bs("run.get", "GET", "/v2/runs/{id}", evidence=BS_SPEC),
    _bs("archive", "POST", "/v2/archive", batch_limit=250,
        evidence=BS_SPEC + " (IsArchived changes at once, archiving is async); 250 per request: BaseSpace "
                           "help, archival storage",
        note="a refused batch is re-read item by item"),
    _bs("restore", "POST", "/v2/restore", batch_limit=250,
        evidence=BS_SPEC + " (async, up to 48 h); refused while archiving: BaseSpace help, archival storage"),
    _bs("dataset.delete", "DELETE", "/v2/datasets/{id}", level=UNVERIFIED,
        evidence="not in the swagger and in no public code (the old script sent it and ignored the answer)",
        note=f"configurable: {DATASET_DELETE_ENV}; orch plans no restore-for-delete until it is confirmed (a delete "
             f"by it succeeded on the account, recorded in the ledger, or declared in {CONFIRMED_ENV}); a 404/405 "
             f"not about the item marks it unavailable"),
    _bs("run.delete", "DELETE", "/v1pre3/runs/{id}", level=CODE,
        evidence="public production code (issue 9 record); not in the v2 swagger (no DELETE /v2/runs/{id})"),
    _bs("trash.empty", "DELETE", "/v2/trash", evidence=BS_SPEC + " (empties the whole trash, irreversibly)"),
)}

_ROUTE_RE = re.compile(r"^(GET|POST|PUT|DELETE|PATCH)\s+(/\S*\{id\}\S*)$")


def bs_routes(env: dict[str, str] | None = None) -> dict[str, Route]:
    """The BaseSpace table with the deployment's dataset delete route, if it sets one."""
    raw = (os.environ if env is None else env).get(DATASET_DELETE_ENV, "").strip()
    if not raw:
        return BS_ROUTES
    m = _ROUTE_RE.match(" ".join(raw.split()))
    if not m:
        raise ConfigError(f"{DATASET_DELETE_ENV}={raw!r}: give 'METHOD /path/{{id}}', "
                          f"e.g. 'DELETE /v2/datasets/{{id}}'")
    out = dict(BS_ROUTES)
    out["dataset.delete"] = replace(BS_ROUTES["dataset.delete"], method=m.group(1), path=m.group(2),
                                    evidence=f"set by this deployment ({DATASET_DELETE_ENV})")
    return out


def declared_confirmed(env: dict[str, str] | None = None) -> set[str]:
    """Routes the deployment declares confirmed (``ORCH_BASESPACE_CONFIRMED_ROUTES``, ``;``-separated)."""
    raw = (os.environ if env is None else env).get(CONFIRMED_ENV, "")
    return {" ".join(part.split()) for part in raw.split(";") if part.strip()}


def all_routes() -> list[Route]:
    return [*ICA_ROUTES.values(), *BS_ROUTES.values()]


def render_contract() -> str:
    """``docs/platform-contract.md``: every call with its limits and evidence."""
    lines = ["# Platform contract: every call orch makes",
             "",
             "Generated from `orch/connectors/routes.py` (`python -m orch.connectors.routes > "
             "docs/platform-contract.md`); a test keeps this file equal to the table. Levels: **spec** (the "
             "platform's published spec), **public-code** (public production code or the vendor's help pages), "
             "**unverified** (nothing public settles it; orch guards it and `orch doctor` reports it).",
             ""]
    for platform, table in (("ICA", ICA_ROUTES), ("BaseSpace", BS_ROUTES)):
        lines += [f"## {platform}", "",
                  "| name | call | media | paging (max page) | batch | retry-safe | level | evidence | note |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in table.values():
            page = r.paging + (f" ({r.page_limit})" if r.page_limit else "")
            media = "v4" if r.media == ICA_V4 else "v3" if r.media == ICA_V3 else "json"
            lines.append(f"| {r.name} | `{r.call}` | {media} | {page} | {r.batch_limit or ''} | "
                         f"{'yes' if r.retry_safe else 'no'} | {r.level} | {r.evidence} | {r.note} |")
        lines.append("")
    unverified = [r for r in all_routes() if r.level == UNVERIFIED]
    lines += ["## Unverified", ""]
    lines += [f"- {r.platform} `{r.call}` ({r.name}): {r.note}" for r in unverified]
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(render_contract(), end="")
