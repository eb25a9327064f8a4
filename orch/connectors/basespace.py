"""BaseSpace Sequence Hub connector: implements ``orch.connectors.base.BasespaceApi``.

``base_url`` is the API server (the config's ``apiServer``, e.g.
https://api.basespace.illumina.com, or the sandbox's basespace_url); routes append
``/v2`` or ``/v1pre3``. Projects are listed through v1pre3 (there is no v2 list).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Iterator

from orch.connectors import mapping, redact
from orch.connectors.cache import RunCache
from orch.connectors.http import HeaderAuth, HttpClient, HttpConfig, bssh_v1_pages, bssh_v2_pages, flatten
from orch.errors import ApiError, AuthError, ConfigError, NotFound
from orch.inventory import BsshDataset, BsshProject, BsshRun

BULK_LIMIT = 250  # the UI's limit per archive/restore request
REQUIRED_SCOPES = ("READ GLOBAL", "BROWSE GLOBAL", "MOVETOTRASH GLOBAL", "EMPTY TRASH")


class BasespaceClient:
    """The BaseSpace platform for one run. ``repr`` never shows the token."""

    def __init__(self, base_url: str, token: str, *, concurrency: int = 8, timeout: float | None = None,
                 http: HttpConfig | None = None, page_size: int = 1024):
        if not token:
            raise ConfigError("no BaseSpace access token: use --basespace-config or set BASESPACE_ACCESS_TOKEN")
        config = http or HttpConfig(pool_size=max(concurrency, 1))
        if timeout is not None:
            config = dataclasses.replace(config, read_timeout=timeout)
        self.http = HttpClient("BaseSpace", base_url, HeaderAuth(base_url, "Authorization", f"Bearer {token}"),
                               config=config, default_headers={"Accept": "application/json"})
        redact.register_secret(token)  # the bare token, too
        self.page_size = page_size
        self.cache = RunCache()

    def __repr__(self) -> str:
        return f"BasespaceClient({self.http.base_url!r})"

    def close(self) -> None:
        self.http.close()

    def clear_cache(self) -> None:
        self.cache.clear()

    def _v2(self, route: str, path: dict[str, Any] | None = None, params: dict[str, Any] | None = None) -> list[dict]:
        def fetch(paging: dict[str, Any]) -> Any:
            return self.http.call("GET", route, path=path, params={**(params or {}), **paging})

        return list(flatten(bssh_v2_pages(fetch, self.page_size)))

    # ------------------------------------------------------------------ reads
    def list_projects(self) -> Iterator[BsshProject]:
        def fetch() -> list[BsshProject]:
            return [mapping.bssh_project(j) for j in flatten(bssh_v1_pages(
                lambda paging: self.http.call("GET", "/v1pre3/users/current/projects", params=paging),
                self.page_size))]

        return iter(self.cache.get(("projects",), fetch))

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
                    for j in self._v2("/v2/projects/{id}/datasets", {"id": project_id}, params)]

        return iter(self.cache.get(("datasets", project_id, is_archived), fetch))

    def get_dataset(self, dataset_id: str) -> BsshDataset:
        return self.cache.get(("dataset", dataset_id), lambda: mapping.bssh_dataset(
            self.http.call("GET", "/v2/datasets/{id}", path={"id": dataset_id})))

    def list_runs(self, statuses: Iterable[str] | None = None) -> Iterator[BsshRun]:
        wanted = sorted(set(statuses or ()))
        params = {"statuses": ",".join(wanted)} if wanted else {}

        def fetch() -> list[BsshRun]:
            return [mapping.bssh_run(j) for j in self._v2("/v2/runs", None, params)]

        return iter(self.cache.get(("runs", tuple(wanted)), fetch))

    def get_run(self, run_id: str) -> BsshRun:
        return self.cache.get(("run", run_id), lambda: mapping.bssh_run(
            self.http.call("GET", "/v2/runs/{id}", path={"id": run_id})))

    # ------------------------------------------------------------------ writes
    def _bulk(self, route: str, dataset_ids: Iterable[str], run_ids: Iterable[str]) -> None:
        items = [("DatasetIds", i) for i in dict.fromkeys(dataset_ids)] + \
                [("RunIds", i) for i in dict.fromkeys(run_ids)]
        try:
            for start in range(0, len(items), BULK_LIMIT):
                body: dict[str, list[str]] = {}
                for key, value in items[start:start + BULK_LIMIT]:
                    body.setdefault(key, []).append(value)
                self.http.request("POST", route, json=body)
        finally:
            self.cache.clear()

    def archive(self, dataset_ids: list[str] = (), run_ids: list[str] = ()) -> None:
        self._bulk("/v2/archive", dataset_ids, run_ids)

    def restore(self, dataset_ids: list[str] = (), run_ids: list[str] = ()) -> None:
        self._bulk("/v2/restore", dataset_ids, run_ids)

    def _delete(self, route: str, ident: str) -> None:
        try:
            self.http.request("DELETE", route, path={"id": ident})
        except ApiError as exc:  # a retried DELETE whose first attempt was applied is refused: is it gone?
            if exc.status not in (400, 404, 409) or not self._gone(route, ident):
                raise
        finally:
            self.cache.clear()

    def _gone(self, route: str, ident: str) -> bool:
        self.cache.clear()
        try:
            item = self.http.call("GET", route, path={"id": ident})
        except NotFound:
            return True
        except ApiError:
            return False
        return bool(item.get("IsDeleted")) if isinstance(item, dict) else False

    def delete_dataset(self, dataset_id: str) -> None:
        self._delete("/v2/datasets/{id}", dataset_id)

    def delete_run(self, run_id: str) -> None:
        self._delete("/v2/runs/{id}", run_id)

    def empty_trash(self) -> None:
        try:
            self.http.request("DELETE", "/v2/trash")
        finally:
            self.cache.clear()

    def scopes(self) -> set[str]:
        body = self.http.call("GET", "/v1pre3/oauthv2/token/current") or {}
        raw = (body.get("Response") or {}).get("Scopes") or []
        if isinstance(raw, str):
            raw = raw.split(",")
        return {" ".join(str(s).split()).upper() for s in raw if str(s).strip()}

    def check_scopes(self, required: Iterable[str] = REQUIRED_SCOPES) -> None:
        have = self.scopes()
        missing = [s for s in required if " ".join(s.split()).upper() not in have]
        if missing:
            err = AuthError("BaseSpace", "GET /v1pre3/oauthv2/token/current", None)
            err.args = (f"the BaseSpace access token lacks the scope(s) {', '.join(missing)}; "
                        f"create a token with them, e.g. bs auth --scopes '{', '.join(required)}'",)
            raise err
