"""BaseSpace Sequence Hub connector: implements ``orch.connectors.base.BasespaceApi``.

``base_url`` is the API server (the config's ``apiServer``, e.g.
https://api.basespace.illumina.com, or the sandbox's basespace_url); every call is a
row of ``routes.bs_routes()`` (the dataset delete route may be set per deployment).
Projects are listed through v1pre3 (there is no v2 list).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Iterable, Iterator

from orch.connectors import mapping, redact, route_state
from orch.connectors.base import BulkResult, RouteUnavailable
from orch.connectors.cache import RunCache
from orch.connectors.http import BSSH_V1, BSSH_V2, HeaderAuth, HttpClient, HttpConfig, flatten, offset_pages
from orch.connectors.routes import Route, bs_routes, declared_confirmed
from orch.errors import ApiError, AuthError, ConfigError, NotFound
from orch.inventory import BsshDataset, BsshProject, BsshRun

log = logging.getLogger(__name__)

REQUIRED_SCOPES = ("READ GLOBAL", "BROWSE GLOBAL", "MOVETOTRASH GLOBAL", "EMPTY TRASH")
TERMINAL_RUN = ("Complete", "Stopped", "Failed")  # only these runs can be archived (BaseSpace help)


def ineligible(item: dict[str, Any], kind: str, restore: bool) -> str:
    """Why BaseSpace would refuse to archive/restore this item (as re-read), or ""."""
    if item.get("IsDeleted"):
        return f"{kind} is deleted (in the trash)"
    if item.get("IsFileDataDeleted"):
        return f"{kind}'s files are deleted"
    if not restore and kind == "run" and item.get("Status") not in TERMINAL_RUN:
        return f"run is {item.get('Status')}; only Complete, Stopped or Failed runs can be archived"
    return ""


class BasespaceClient:
    """The BaseSpace platform for one run. ``repr`` never shows the token."""

    def __init__(self, base_url: str, token: str, *, concurrency: int = 8, timeout: float | None = None,
                 http: HttpConfig | None = None, page_size: int = 1024, routes: dict[str, Route] | None = None,
                 confirmed_routes: Iterable[str] | None = None):
        if not token:
            raise ConfigError("no BaseSpace access token: use --basespace-config or set BASESPACE_ACCESS_TOKEN")
        config = http or HttpConfig(pool_size=max(concurrency, 1))
        if timeout is not None:
            config = dataclasses.replace(config, read_timeout=timeout)
        self.http = HttpClient("BaseSpace", base_url, HeaderAuth(base_url, "Authorization", f"Bearer {token}"),
                               config=config, default_headers={"Accept": "application/json"})
        redact.register_secret(token)  # the bare token, too
        self.routes = routes or bs_routes()
        self.unavailable: dict[str, RouteUnavailable] = {}  # route name -> the error that showed it (this run)
        self._account: str | None = None
        # unverified routes known to work here without a ledger record (the deployment's declaration,
        # or the sandbox's own): planning treats them as confirmed
        self.confirmed_routes = set(confirmed_routes) if confirmed_routes is not None else declared_confirmed()
        self.page_size = page_size
        self.cache = RunCache()

    def __repr__(self) -> str:
        return f"BasespaceClient({self.http.base_url!r})"

    def close(self) -> None:
        self.http.close()

    def clear_cache(self) -> None:
        self.cache.clear()

    def _list(self, name: str, path: dict[str, Any] | None = None, params: dict[str, Any] | None = None) -> list[dict]:
        route = self.routes[name]
        style = BSSH_V1 if route.paging == "bssh-v1" else BSSH_V2
        limit = min(self.page_size, route.page_limit or self.page_size)
        return list(flatten(offset_pages(lambda paging: self.http.fetch(route, path=path, params=paging),
                                         style, limit, extra=params)))

    def _get(self, name: str, ident: str) -> Any:
        return self.http.fetch(self.routes[name], path={"id": ident})

    # ------------------------------------------------------------------ reads
    def list_projects(self) -> Iterator[BsshProject]:
        return iter(self.cache.get(("projects",), lambda: [mapping.bssh_project(j)
                                                           for j in self._list("projects.list")]))

    def projects_by_name(self, names: Iterable[str]) -> dict[str, list[BsshProject]]:
        """Exact-name lookup over one project listing; a name may match several projects."""
        wanted = set(names)
        out: dict[str, list[BsshProject]] = {n: [] for n in wanted}
        for p in self.list_projects():
            if p.name in wanted:
                out[p.name].append(p)
        return out

    def list_datasets(self, project_id: str, is_archived: bool | None = None) -> Iterator[BsshDataset]:
        params = {} if is_archived is None else {"isarchived": "True" if is_archived else "False"}

        def fetch() -> list[BsshDataset]:
            return [mapping.bssh_dataset(j, project_id)
                    for j in self._list("project.datasets", {"id": project_id}, params)]

        return iter(self.cache.get(("datasets", project_id, is_archived), fetch))

    def get_dataset(self, dataset_id: str) -> BsshDataset:
        return self.cache.get(("dataset", dataset_id),
                              lambda: mapping.bssh_dataset(self._get("dataset.get", dataset_id)))

    def list_runs(self, statuses: Iterable[str] | None = None) -> Iterator[BsshRun]:
        wanted = sorted(set(statuses or ()))
        params = {"statuses": ",".join(wanted)} if wanted else {}
        return iter(self.cache.get(("runs", tuple(wanted)), lambda: [mapping.bssh_run(j)
                                                                     for j in self._list("runs.list", None, params)]))

    def get_run(self, run_id: str) -> BsshRun:
        return self.cache.get(("run", run_id), lambda: mapping.bssh_run(self._get("run.get", run_id)))

    def current_user(self) -> dict[str, Any]:
        return self.http.fetch(self.routes["user.current"]) or {}

    def account(self) -> str:
        """Which account route states are kept for: API host and the token's user (one read, once)."""
        if self._account is None:
            try:
                user = str(self.current_user().get("Id") or "")
            except ApiError:
                user = ""
            self._account = route_state.account_key(self.http.base_url, user)
        return self._account

    # ------------------------------------------------------------------ archive / restore
    def archive(self, dataset_ids: Iterable[str] = (), run_ids: Iterable[str] = ()) -> list[BulkResult]:
        return self._bulk(False, dataset_ids, run_ids)

    def restore(self, dataset_ids: Iterable[str] = (), run_ids: Iterable[str] = ()) -> list[BulkResult]:
        return self._bulk(True, dataset_ids, run_ids)

    def _bulk(self, restore: bool, dataset_ids: Iterable[str], run_ids: Iterable[str]) -> list[BulkResult]:
        """Batches of at most the route's limit (250). A refused batch is re-read item by item:
        already in the requested state = done (a retried POST whose first answer was lost),
        ineligible = failed with the reason, the rest sent again in halves, so one bad item
        never blocks the others. Connection failures and auth errors still raise."""
        route = self.routes["restore" if restore else "archive"]
        items = [("dataset", i) for i in dict.fromkeys(dataset_ids)] + [("run", i) for i in dict.fromkeys(run_ids)]
        limit = route.batch_limit or 250
        out: dict[tuple[str, str], BulkResult] = {}
        try:
            for start in range(0, len(items), limit):
                self._send_bulk(route, restore, items[start:start + limit], out)
        finally:
            self.cache.clear()
        return [out[k] for k in items]

    def _send_bulk(self, route: Route, restore: bool, batch: list[tuple[str, str]],
                   out: dict[tuple[str, str], BulkResult]) -> None:
        body: dict[str, list[str]] = {}
        for kind, ident in batch:
            body.setdefault("DatasetIds" if kind == "dataset" else "RunIds", []).append(ident)
        try:
            self.http.send(route, json=body)
        except (AuthError, RouteUnavailable):
            raise
        except ApiError as exc:
            if exc.status is None or exc.status >= 500:
                raise
            if exc.status == 405:
                raise self._unavailable(route, exc) from None
            self._reread_refused(route, restore, batch, out, exc)
            return
        verb = "restore" if restore else "archive"
        for key in batch:
            out[key] = BulkResult(key[0], key[1], True, f"{verb} requested")

    def _reread_refused(self, route: Route, restore: bool, batch: list[tuple[str, str]],
                        out: dict[tuple[str, str], BulkResult], exc: ApiError) -> None:
        rest: list[tuple[str, str]] = []
        for kind, ident in batch:
            try:
                item = self._get("dataset.get" if kind == "dataset" else "run.get", ident) or {}
            except NotFound:
                out[(kind, ident)] = BulkResult(kind, ident, False, f"{kind} {ident} not found")
                continue
            archived = bool(item.get("IsArchived"))
            if archived != restore:
                out[(kind, ident)] = BulkResult(kind, ident, True, "already restored" if restore else "already archived")
            elif why := ineligible(item, kind, restore):
                out[(kind, ident)] = BulkResult(kind, ident, False, why)
            else:
                rest.append((kind, ident))
        if not rest:
            return
        if len(rest) == 1 and len(batch) == 1:
            out[rest[0]] = BulkResult(*rest[0], False, exc.detail or str(exc))
            return
        log.info("BaseSpace %s refused a batch of %d (%s); retrying %d item(s) in smaller batches",
                 route.call, len(batch), exc.detail or exc.status, len(rest))
        half = max(1, len(rest) // 2)
        for part in (rest[:half], rest[half:]):
            if part:
                self._send_bulk(route, restore, part, out)

    # ------------------------------------------------------------------ deletes
    def _delete(self, name: str, get: str, ident: str) -> None:
        route = self.routes[name]
        if name in self.unavailable:  # found unknown earlier in this run: never sent again
            raise RouteUnavailable("BaseSpace", route.call, None,
                                   "not attempted: the server did not know this route earlier in this run")
        try:
            self.http.send(route, path={"id": ident})
        except ApiError as exc:
            if exc.status == 405:
                raise self._unavailable(route, exc) from None
            if exc.status not in (400, 404, 409):
                raise
            gone = self._gone(get, ident)  # a retried DELETE whose first attempt was applied is refused
            if gone:
                return
            if exc.status == 404 and gone is False:  # the item is there: the server does not know the route
                raise self._unavailable(route, exc) from None
            raise
        finally:
            self.cache.clear()

    def _unavailable(self, route: Route, exc: ApiError) -> RouteUnavailable:
        err = self.unavailable[route.name] = RouteUnavailable("BaseSpace", route.call, exc.status,
                                f"the server does not know this route ({route.level}); no further BaseSpace "
                                f"deletes by it; set the route that works with ORCH_BASESPACE_DATASET_DELETE_ROUTE"
                                if route.name == "dataset.delete" else
                                f"the server does not know this route ({route.level})")
        return err

    def _gone(self, get: str, ident: str) -> bool | None:
        """True: gone or in the trash; False: still there; None: could not tell."""
        self.cache.clear()
        try:
            item = self._get(get, ident)
        except NotFound:
            return True
        except ApiError:
            return None
        return bool(item.get("IsDeleted")) if isinstance(item, dict) else None

    def delete_dataset(self, dataset_id: str) -> None:
        self._delete("dataset.delete", "dataset.get", dataset_id)

    def delete_run(self, run_id: str) -> None:
        self._delete("run.delete", "run.get", run_id)

    def empty_trash(self) -> None:
        try:
            self.http.send(self.routes["trash.empty"])
        finally:
            self.cache.clear()

    def scopes(self) -> set[str]:
        body = self.http.fetch(self.routes["token.current"]) or {}
        raw = (body.get("Response") or {}).get("Scopes") or []
        if isinstance(raw, str):
            raw = raw.split(",")
        return {" ".join(str(s).split()).upper() for s in raw if str(s).strip()}

    def missing_scopes(self, required: Iterable[str] = REQUIRED_SCOPES) -> list[str]:
        have = self.scopes()
        return [s for s in required if " ".join(s.split()).upper() not in have]

    def check_scopes(self, required: Iterable[str] = REQUIRED_SCOPES) -> None:
        required = tuple(required)
        missing = self.missing_scopes(required)
        if missing:
            err = AuthError("BaseSpace", self.routes["token.current"].call, None)
            err.args = (f"the BaseSpace access token lacks the scope(s) {', '.join(missing)}; "
                        f"create a token with them, e.g. bs auth --scopes '{', '.join(required)}'",)
            raise err
