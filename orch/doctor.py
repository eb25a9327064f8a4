"""``orch doctor``: a read-only preflight of the configured account (issue 9 item 8).

One line per check, ✓ or ✗ (``!`` for what is merely unknown), with the fix. Only GET requests are
sent (every call is a read row of the route table), each with a short timeout and one retry, so a
platform that is down is named within seconds. Exit 1 when any check fails.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterable

from orch.connectors import route_state
from orch.connectors.basespace import REQUIRED_SCOPES
from orch.connectors.routes import BS_ROUTES, CONFIRMED_ENV, DATASET_DELETE_ENV, ICA_ROUTES, UNVERIFIED
from orch.errors import ApiError, AuthError, ConfigError, NotFound, OrchError

OK, FAIL, UNKNOWN = "ok", "fail", "unknown"
MARK = {OK: "✓", FAIL: "✗", UNKNOWN: "!"}
MAX_SKEW_S = 60.0
PROBE_TIMEOUT_S = 10.0
# read routes orch lists through, probed with the smallest page (a 404/405 means the server lacks the route)
PROBES = (("ICA", "projects.search"), ("BaseSpace", "projects.list"), ("BaseSpace", "runs.list"),
          ("BaseSpace", "token.current"))


@dataclass
class Check:
    name: str
    status: str  # ok | fail | unknown
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{MARK[self.status]} {self.name}: {self.detail}"
        return text + (f" — fix: {self.fix}" if self.fix and self.status != OK else "")


@dataclass
class Needs:
    """What the loaded policies need of the account."""

    ica_projects: list[str]
    bssh_projects: list[str]
    link_sources: list[str]  # ICA projects whose data hand-offs link elsewhere
    scopes: list[str]
    bssh: bool
    ica: bool


def needs_of(policies: Any | None) -> Needs:
    if policies is None:
        return Needs([], [], [], list(REQUIRED_SCOPES), True, True)
    ica, bssh, sources, scopes = [], [], [], ["READ GLOBAL", "BROWSE GLOBAL"]
    uses_bssh = uses_ica = False
    for f in policies.files:
        ica += f.scope.ica_projects
        bssh += f.scope.bssh_projects
        for p in f.policies:
            names = {a.name for a in p.actions}
            on_bssh = p.resource.startswith("bssh.") or (p.source is not None and p.source.via in
                                                         ("bsshoutput_projects", "run"))
            uses_bssh |= on_bssh
            uses_ica |= p.resource.startswith("ica.") or p.source is not None
            if on_bssh and "delete" in names:
                scopes.append("MOVETOTRASH GLOBAL")
            if p.resource == "bssh.trash":
                scopes.append("EMPTY TRASH")
            if "link" in names:
                sources.append(p.source.analyses.project if p.source is not None else (p.project or ""))
    uniq = lambda xs: list(dict.fromkeys(x for x in xs if x))  # noqa: E731
    return Needs(uniq(ica), uniq(bssh), uniq(sources), uniq(scopes), uses_bssh, uses_ica)


def _guard(name: str, fn: Callable[[], Check], fix: str) -> Check:
    try:
        return fn()
    except AuthError as exc:
        return Check(name, FAIL, str(exc), fix)
    except OrchError as exc:
        return Check(name, FAIL, str(exc), fix)


def _skew(date_header: str | None, now: datetime) -> float | None:
    try:
        server = parsedate_to_datetime(date_header) if date_header else None
    except (TypeError, ValueError):
        return None
    return None if server is None else (now - server).total_seconds()


def run_checks(ica: Any, bssh: Any, ledger: Any, policies: Any | None = None,
               clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> list[Check]:
    need = needs_of(policies)
    out: list[Check] = []
    for client in (ica, bssh):
        if client is not None:
            client.http.bound(PROBE_TIMEOUT_S, retries=1)
    ica_ok = bs_ok = False
    if ica is not None and need.ica:
        def ica_key() -> Check:
            response = ica.http.send(ICA_ROUTES["projects.search"], params={"pageSize": "1"})
            items = (response.json() or {}).get("items") or []
            tenant = items[0].get("tenantName") if items else None
            skew = _skew(response.headers.get("Date"), clock())
            if skew is not None and abs(skew) > MAX_SKEW_S:
                out.append(Check("clock", FAIL, f"the local clock is {skew:+.0f}s off ICA's Date header",
                                 "synchronise the clock (NTP); ages and schedules depend on it"))
            elif skew is not None:
                out.append(Check("clock", OK, f"within {abs(skew):.0f}s of ICA's Date header"))
            return Check("ICA key", OK, f"accepted by {ica.http.base_url}" + (f" (tenant {tenant})" if tenant else ""))

        check = _guard("ICA key", ica_key, "check --api-key-file / ICA_API_KEY and --ica-url")
        out.insert(0, check)
        ica_ok = check.status == OK
    if bssh is not None and need.bssh:
        def bs_token() -> Check:
            user = bssh.current_user()
            return Check("BaseSpace token", OK, f"accepted by {bssh.http.base_url} (user {user.get('Name') or '?'}, "
                                                f"id {user.get('Id') or '?'}); tokens are regional, so apiServer "
                                                f"matches the token's region")

        check = _guard("BaseSpace token", bs_token,
                       "check --basespace-config / BASESPACE_ACCESS_TOKEN, and that apiServer is the token's "
                       "region (e.g. https://api.euc1.sh.basespace.illumina.com)")
        out.append(check)
        bs_ok = check.status == OK
        if bs_ok:
            def scopes() -> Check:
                missing = bssh.missing_scopes(need.scopes)
                if missing:
                    return Check("BaseSpace scopes", FAIL, f"the token lacks {', '.join(missing)}",
                                 f"bs auth --scopes '{', '.join(need.scopes)}'")
                return Check("BaseSpace scopes", OK, f"{', '.join(need.scopes)} granted")

            out.append(_guard("BaseSpace scopes", scopes, f"bs auth --scopes '{', '.join(need.scopes)}'"))
    if ica_ok:
        for name in need.ica_projects:
            out.append(_ica_project(ica, name, name in need.link_sources))
    if bs_ok:
        out += _bs_projects(bssh, need.bssh_projects)
    for platform, route_name in PROBES:
        client = ica if platform == "ICA" else bssh
        if client is None or not (ica_ok if platform == "ICA" else bs_ok):
            continue
        out.append(_probe(client, platform, route_name))
    if bssh is not None and need.bssh:
        out += _unverified(bssh, ledger, bs_ok)
    return out


def _ica_project(ica: Any, name: str, links_out: bool) -> Check:
    def go() -> Check:
        p = ica.find_project(name)
        if links_out and p.raw.get("dataSharingEnabled") is False:
            return Check(f"ICA project {name!r}", FAIL, f"found ({p.id}) but dataSharingEnabled is false, so its "
                                                        f"hand-offs cannot link", "turn on data sharing in the "
                                                                                 "project's details in ICA")
        return Check(f"ICA project {name!r}", OK, f"found ({p.id})" + ("; data sharing allowed" if links_out else ""))

    return _guard(f"ICA project {name!r}", go, "correct the name in the policy's scope (names are case-sensitive)")


def _bs_projects(bssh: Any, names: Iterable[str]) -> list[Check]:
    names = list(names)
    if not names:
        return []
    try:
        found = bssh.projects_by_name(names)
        every = [p.name for p in bssh.list_projects()]
    except OrchError as exc:
        return [Check("BaseSpace projects", FAIL, str(exc), "check the token and apiServer")]
    out = []
    for name in names:
        hits = found.get(name) or []
        label = f"BaseSpace project {name!r}"
        if len(hits) == 1:
            out.append(Check(label, OK, f"found ({hits[0].id})"))
        elif hits:
            out.append(Check(label, FAIL, f"{len(hits)} projects have this name ({', '.join(p.id for p in hits)})",
                             "rename one in BaseSpace so the name is unique"))
        else:
            near = sorted({n for n in every if n.lower() == name.lower()})
            out.append(Check(label, FAIL, "not found" + (f"; did you mean {', '.join(map(repr, near))}?" if near else ""),
                             "correct the name in the policy's scope (names are case-sensitive)"))
    return out


def _probe(client: Any, platform: str, route_name: str) -> Check:
    table = ICA_ROUTES if platform == "ICA" else client.routes
    route = table[route_name]
    params = {"pageSize": "1"} if platform == "ICA" else ({"Limit": 1} if route.paging != "none" else None)
    try:
        client.http.send(route, params=params)
    except (NotFound, ApiError) as exc:
        if exc.status in (404, 405):
            return Check(f"route {route.call}", FAIL, f"{platform} answered {exc.status}: the server does not know "
                                                      f"this route", "report it: orch's route table "
                                                                     "(docs/platform-contract.md) needs updating")
        return Check(f"route {route.call}", FAIL, str(exc), "see the error")
    return Check(f"route {route.call}", OK, "served")


def _unverified(bssh: Any, ledger: Any, reachable: bool) -> list[Check]:
    out = []
    account = route_state.bssh_account(bssh) if reachable else "basespace:?"
    declared = getattr(bssh, "confirmed_routes", set())
    for route in (r for r in bssh.routes.values() if r.level == UNVERIFIED or r.name == "dataset.delete"):
        state = route_state.get(ledger, account, route.call, declared)
        label = f"unverified route {route.call}"
        probe = "no harmless probe exists (it is a DELETE); "
        if state == route_state.CONFIRMED:
            out.append(Check(label, OK, f"confirmed on this account; {probe.rstrip('; ')}"))
        elif state == route_state.UNAVAILABLE:
            out.append(Check(label, FAIL, f"unavailable: the server did not know it on an earlier apply; no dataset "
                                          f"is deleted or restored-for-delete by it",
                             f"set the working route in {DATASET_DELETE_ENV}"))
        else:
            out.append(Check(label, UNKNOWN, f"unknown: {probe}no restore-for-delete is planned until a delete by it "
                                             f"succeeds once", f"after checking it by hand, declare it in {CONFIRMED_ENV}"))
    return out


def render(checks: list[Check], fmt: str = "table") -> str:
    if fmt == "json":
        return json.dumps({"ok": not any(c.status == FAIL for c in checks),
                           "checks": [asdict(c) for c in checks]}, indent=2, ensure_ascii=False)
    if fmt != "table":
        raise ConfigError(f"unknown --format {fmt!r}; use table or json")
    failed = sum(c.status == FAIL for c in checks)
    return "\n".join([c.line() for c in checks] + [f"{failed} check(s) failed" if failed else "all checks passed"])


def doctor_command(settings: Any, fmt: str = "table") -> int:
    """Build the connections like plan does, run every check, print; 1 when a check failed."""
    from orch.engine.commands import load_policies, reading_ledger
    from orch.engine.session import Session

    policies = load_policies(settings.policy_paths, settings.var_overrides) if settings.policy_paths else None
    with Session(settings) as session, reading_ledger(settings) as ledger:
        ica = _client(session.ica)
        bssh = _client(session.bssh)
        checks = run_checks(ica, bssh, ledger, policies)
        if ica is None:
            checks.insert(0, Check("ICA key", FAIL, "no ICA API key configured", "use --api-key-file or ICA_API_KEY"))
        if bssh is None and needs_of(policies).bssh:
            checks.append(Check("BaseSpace token", FAIL, "no BaseSpace access token configured",
                                "use --basespace-config or BASESPACE_ACCESS_TOKEN (bs auth writes default.cfg)"))
    print(render(checks, fmt))
    return 1 if any(c.status == FAIL for c in checks) else 0


def _client(lazy: Any) -> Any:
    """The client behind the session's lazy stand-in; None when it is not configured (no key/token)."""
    from orch.engine.session import Lazy

    try:
        return lazy.get() if isinstance(lazy, Lazy) else lazy
    except ConfigError:
        return None
