"""ICA v2 connector: implements ``orch.connectors.base.IcaApi`` over the shared HTTP layer.

Reads are memoised for the run (``RunCache``) and cleared after any write. Listings
stream the largest pages ICA serves (1000). Recursive listing under a folder is one
paged ``filePath`` prefix query, re-checked case-sensitively on the client because
ICA matches prefixes case-insensitively.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any, Iterable, Iterator

from orch.connectors import mapping, transfer
from orch.connectors.base import LinkResult
from orch.connectors.cache import RunCache, map_concurrent
from orch.connectors.http import HeaderAuth, HttpClient, HttpConfig, flatten, ica_cursor_pages, idempotency_key
from orch.connectors.routes import ICA_ROUTES as R, ICA_V3, Route
from orch.errors import ApiError, ConfigError, Conflict, NotFound
from orch.inventory import IcaAnalysis, IcaData, IcaOutput, IcaProject

log = logging.getLogger(__name__)

#: data statuses that show a lifecycle request already took effect
IN_EFFECT = {"archive": frozenset({"ARCHIVING", "ARCHIVED"}), "unarchive": frozenset({"UNARCHIVING", "AVAILABLE"}),
             "delete": frozenset({"DELETING"})}

LINK_FINAL = {"SUCCEEDED", "PARTIALLY_SUCCEEDED", "FAILED", "STOPPED"}
ITEM_OK = {"LINKED": "", "ALREADY_LINKED": "already linked"}
ITEM_FINAL = {"LINKED", "ALREADY_LINKED", "FAILED", "PARTIALLY_LINKED"}
IDS_PER_QUERY = R["data.list"].batch_limit or 100  # id filters per GET (keeps URLs well under common limits)
LINK_BATCH_SIZE = R["link.create"].batch_limit or 1000
TAG_CONFLICT_ATTEMPTS = 3  # PUT analysis tags: re-read and merge after a 409 this many times in all


def _merge_user_tags(holder: dict[str, Any], tags: Iterable[str]) -> list[str]:
    """Add ``tags`` to ``holder["tags"]["userTags"]`` in place (kept order, appended); return the added ones."""
    current = holder.get("tags")
    if not isinstance(current, dict):
        current = holder["tags"] = {}
    have = [str(t) for t in current.get("userTags") or []]
    missing = [t for t in dict.fromkeys(tags) if t not in have]
    if missing:
        current["userTags"] = have + missing
    return missing


class NameNotFound(NotFound):
    """A name that resolves to nothing (no HTTP status involved)."""

    def __init__(self, platform: str, call: str, message: str):
        super().__init__(platform, call, None, message)
        self.args = (message,)


class IcaClient:
    """The ICA platform for one run. ``repr`` never shows the key."""

    def __init__(self, base_url: str, api_key: str, *, s3_endpoint_url: str | None = None, concurrency: int = 8,
                 timeout: float | None = None, http: HttpConfig | None = None, page_size: int = 1000, link_timeout: float = 600.0,
                 link_poll: tuple[float, float] = (1.0, 15.0),
                 multipart_threshold: int = transfer.MULTIPART_THRESHOLD):
        if not api_key:
            raise ConfigError("no ICA API key: use --api-key-file or set ICA_API_KEY")
        config = http or HttpConfig(pool_size=max(concurrency, 1))
        if timeout is not None:
            config = dataclasses.replace(config, read_timeout=timeout)
        self.http = HttpClient("ICA", base_url, HeaderAuth(base_url, "X-API-Key", api_key), config=config,
                               default_headers={"Accept": ICA_V3})
        self.s3_endpoint_url = s3_endpoint_url
        self.concurrency = max(1, concurrency)
        self.page_size = page_size
        self.link_timeout = link_timeout
        self.link_poll = link_poll
        self.multipart_threshold = multipart_threshold
        self.cache = RunCache()

    def __repr__(self) -> str:
        return f"IcaClient({self.http.base_url!r})"

    def close(self) -> None:
        self.http.close()

    def clear_cache(self) -> None:
        self.cache.clear()

    # ------------------------------------------------------------------ helpers
    def _pages(self, route: Route, path: dict[str, Any], params: list[tuple[str, Any]] | None = None,
               json: Any = None) -> Iterator[dict]:
        size = min(self.page_size, route.page_limit or self.page_size)

        def fetch(paging: dict[str, Any]) -> Any:
            return self.http.fetch(route, path=path, params=list(params or []) + list(paging.items()), json=json)

        return flatten(ica_cursor_pages(fetch, size))

    def map(self, fn, items):
        """Run independent reads concurrently (bounded by ``concurrency``), results in order."""
        return map_concurrent(fn, items, self.concurrency)

    # ------------------------------------------------------------------ projects
    def find_project(self, name: str) -> IcaProject:
        def fetch() -> IcaProject:
            found = [mapping.ica_project(j) for j in self._pages(R["projects.search"], {}, [("search", name)])]
            exact = [p for p in found if p.name == name]
            if not exact:
                near = sorted({p.name for p in found if p.name.lower() == name.lower()})
                hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
                raise NameNotFound("ICA", R["projects.search"].call,
                                   f"ICA project {name!r} not found (no project with exactly that name is visible "
                                   f"to this API key){hint}")
            if len(exact) > 1:
                raise ConfigError(f"ICA project name {name!r} is ambiguous: {len(exact)} projects have it "
                                  f"({', '.join(p.id for p in exact)})")
            self.cache.put(("project", exact[0].id), exact[0])  # get_project(id) needs no second read
            return exact[0]

        return self.cache.get(("find_project", name), fetch)

    def get_project(self, project_id: str) -> IcaProject:
        return self.cache.get(("project", project_id), lambda: mapping.ica_project(
            self.http.fetch(R["project.get"], path={"projectId": project_id})))

    # ------------------------------------------------------------------ analyses
    def list_analyses(self, project_id: str, statuses: Iterable[str] | None = None) -> Iterator[IcaAnalysis]:
        """POST analysis:search, statuses filtered on the server (V4 spelling on the wire)."""
        wanted = sorted({mapping.V3_TO_V4_STATUS.get(s.upper(), s.upper()) for s in statuses}) if statuses else None
        body: dict[str, Any] = {"status": wanted} if wanted else {}

        def fetch() -> list[IcaAnalysis]:
            return [mapping.ica_analysis(j, project_id)
                    for j in self._pages(R["analyses.search"], {"projectId": project_id}, json=body)]

        return iter(self.cache.get(("analyses", project_id, tuple(wanted or ())), fetch))

    def get_analysis(self, project_id: str, analysis_id: str) -> IcaAnalysis:
        return self.cache.get(("analysis", project_id, analysis_id), lambda: mapping.ica_analysis(
            self.http.fetch(R["analysis.get"], path={"projectId": project_id, "analysisId": analysis_id}),
            project_id))

    def analysis_outputs(self, project_id: str, analysis_id: str) -> list[IcaOutput]:
        return list(self.cache.get(("outputs", project_id, analysis_id), lambda: mapping.ica_outputs(
            self.http.fetch(R["analysis.outputs"], path={"projectId": project_id, "analysisId": analysis_id}))))

    def outputs_of(self, project_id: str, analysis_ids: Iterable[str]) -> dict[str, list[IcaOutput]]:
        """Outputs of many analyses, fetched concurrently."""
        ids = list(dict.fromkeys(analysis_ids))
        return dict(zip(ids, self.map(lambda a: self.analysis_outputs(project_id, a), ids)))

    # ------------------------------------------------------------------ data
    def list_data(self, project_id: str, *, path_prefix: str | None = None, full_path: str | None = None,
                  parent_folder_path: str | None = None, ids: Iterable[str] | None = None,
                  data_type: str | None = None, statuses: Iterable[str] | None = None,
                  filenames: Iterable[str] | None = None) -> Iterator[IcaData]:
        base: list[tuple[str, Any]] = []
        if path_prefix is not None:
            base += [("filePath", path_prefix), ("filePathMatchMode", "STARTS_WITH_CASE_INSENSITIVE")]
        if full_path is not None:
            base += [("filePath", full_path), ("filePathMatchMode", "FULL_CASE_INSENSITIVE")]
        if parent_folder_path is not None:
            base.append(("parentFolderPath", parent_folder_path))
        if data_type:
            base.append(("type", data_type.upper()))
        base += [("status", s) for s in sorted(set(statuses or ()))]
        names = sorted(set(filenames or ()))
        if names:
            base += [("filename", n) for n in names] + [("filenameMatchMode", "EXACT")]
        id_list = list(dict.fromkeys(ids)) if ids is not None else None
        if id_list is not None and not id_list:
            return iter(())

        def keep(d: IcaData) -> bool:  # ICA matches paths case-insensitively; orch must not
            if path_prefix is not None and not d.path.startswith(path_prefix):
                return False
            if full_path is not None and d.path != full_path:
                return False
            return True

        def fetch() -> list[IcaData]:
            chunks = [id_list[i:i + IDS_PER_QUERY] for i in range(0, len(id_list), IDS_PER_QUERY)] \
                if id_list is not None else [None]
            out: list[IcaData] = []
            for chunk in chunks:
                params = base + [("id", i) for i in chunk or ()]
                out += [d for d in map(mapping.ica_data, self._pages(R["data.list"], {"projectId": project_id},
                                                                     params)) if keep(d)]
            for d in out:
                self.cache.put(("data", project_id, d.id), d)
            return out

        return iter(self.cache.get(("list_data", project_id, tuple(base), tuple(id_list or ())), fetch))

    def get_data(self, project_id: str, data_id: str) -> IcaData:
        return self.cache.get(("data", project_id, data_id), lambda: mapping.ica_data(
            self.http.fetch(R["data.get"], path={"projectId": project_id, "dataId": data_id})))

    def get_many(self, project_id: str, data_ids: Iterable[str]) -> dict[str, IcaData]:
        """Batch get by id (``id`` filter, 100 per request); missing ids are absent from the result."""
        ids = list(dict.fromkeys(data_ids))
        return {d.id: d for d in self.list_data(project_id, ids=ids)}

    def files_under(self, project_id: str, folder_path: str) -> list[IcaData]:
        """Every file below a folder, recursively: one paged listing."""
        folder_path = folder_path if folder_path.endswith("/") else folder_path + "/"
        return list(self.list_data(project_id, path_prefix=folder_path, data_type="FILE"))

    def files_under_folders(self, project_id: str, folder_paths: Iterable[str], *,
                            shared_root: str | None = None) -> dict[str, list[IcaData]]:
        """Files under each folder (recursive), keyed by folder path.

        Default: one listing per folder, run concurrently. With ``shared_root`` (a folder
        holding them all, e.g. ``/ilmn-analyses/``): ONE paged listing of that root, split by
        folder on the client: far fewer requests when the folders are most of what is there
        (500 analyses: 12 requests instead of 500).
        """
        paths = [p if p.endswith("/") else p + "/" for p in dict.fromkeys(folder_paths)]
        if shared_root is None:
            return dict(zip(paths, self.map(lambda p: self.files_under(project_id, p), paths)))
        root = shared_root if shared_root.endswith("/") else shared_root + "/"
        outside = [p for p in paths if not p.startswith(root)]
        if outside:
            raise ValueError(f"folder {outside[0]} is not under {root}")
        out: dict[str, list[IcaData]] = {p: [] for p in paths}
        by_depth = sorted(paths, key=len, reverse=True)  # nested folders: the deepest owns a file
        for f in self.files_under(project_id, root):
            for p in by_depth:
                if f.path.startswith(p):
                    out[p].append(f)
                    break
        return out

    def output_files(self, project_id: str, analysis_id: str) -> list[IcaData]:
        """Files of an analysis's outputs (recursive), sorted by path."""
        outputs = self.analysis_outputs(project_id, analysis_id)
        folder_ids = [o.data_id for o in outputs if o.data_type == "FOLDER"]
        file_ids = [o.data_id for o in outputs if o.data_type != "FOLDER"]
        found = self.get_many(project_id, folder_ids + file_ids)
        files = [found[i] for i in file_ids if i in found]
        for fid in folder_ids:
            if fid in found:
                files += self.files_under(project_id, found[fid].path)
        return sorted({f.id: f for f in files}.values(), key=lambda f: f.path)

    def read_bytes(self, project_id: str, data_id: str, max_bytes: int = 1 << 20) -> bytes:
        def fetch() -> bytes:
            body = self.http.fetch(R["data.download_url"], path={"projectId": project_id, "dataId": data_id})
            url = (body or {}).get("url")
            if not url:
                raise ApiError("ICA", R["data.download_url"].call, None, "the response holds no url")
            return self.http.download(url, max_bytes)

        return self.cache.get(("bytes", project_id, data_id), fetch)

    # ------------------------------------------------------------------ writes
    def link(self, to_project_id: str, data_ids: list[str]) -> list[LinkResult]:
        ids = list(dict.fromkeys(data_ids))
        results: dict[str, LinkResult] = {}
        try:
            for i in range(0, len(ids), LINK_BATCH_SIZE):
                results.update(self._link_batch(to_project_id, ids[i:i + LINK_BATCH_SIZE]))
        finally:
            self.cache.clear()
        return [results.get(i) or LinkResult(i, False, "no result reported for this item") for i in ids]

    def _link_batch(self, project_id: str, ids: list[str]) -> dict[str, LinkResult]:
        path = {"projectId": project_id}
        created = self.http.fetch(R["link.create"], path=path, json={"items": [{"dataId": i} for i in ids]})
        batch_id = (created or {}).get("id")
        if not batch_id:
            raise ApiError("ICA", R["link.create"].call, None, "the response holds no batch id")
        path = {"projectId": project_id, "batchId": batch_id}
        status = ((created.get("job") or {}).get("status") or "").upper()
        deadline = time.monotonic() + self.link_timeout
        delay, max_delay = self.link_poll
        while status not in LINK_FINAL:
            if time.monotonic() + delay > deadline:
                break
            time.sleep(delay)
            delay = min(delay * 2, max_delay)
            job = (self.http.fetch(R["link.get"], path=path) or {}).get("job")
            status = ((job or {}).get("status") or "").upper()
        items = list(self._pages(R["link.items"], path))
        out: dict[str, LinkResult] = {}
        for it in items:
            did = str((it.get("request") or {}).get("dataId") or "")
            proc = it.get("processing") or {}
            st = str(proc.get("status") or "").upper()
            info = str(proc.get("additionalStatusInformation") or "")
            if st in ITEM_OK:
                out[did] = LinkResult(did, True, ITEM_OK[st])
            elif st in ITEM_FINAL:
                out[did] = LinkResult(did, False, f"{st.lower().replace('_', ' ')}" + (f": {info}" if info else ""))
            else:
                out[did] = LinkResult(did, False, f"still {st or status or 'unknown'} after "
                                                  f"{self.link_timeout:g}s (batch {batch_id})")
        if status not in LINK_FINAL:
            log.warning("ICA linking batch %s still %s after %gs", batch_id, status, self.link_timeout)
        return out

    def _data_action(self, verb: str, project_id: str, data_id: str) -> None:
        try:
            self.http.send(R["data." + verb], path={"projectId": project_id, "dataId": data_id})
        except ApiError as exc:
            if exc.status not in (400, 404, 409) or not self._in_effect(verb, project_id, data_id):
                raise
            log.info("ICA %s of %s was refused, but the data already shows it in effect (a retried request "
                     "whose first attempt was applied)", verb, data_id)
        finally:
            self.cache.clear()

    def _in_effect(self, verb: str, project_id: str, data_id: str) -> bool:
        """Does the item already show ``verb`` in effect? Lifecycle POSTs are retried when a response is
        lost; the repeat is refused (the data is ARCHIVING, DELETING, ...) although the first was applied."""
        self.cache.clear()
        try:
            return self.get_data(project_id, data_id).status in IN_EFFECT[verb]
        except NotFound:
            return verb == "delete"
        except ApiError:
            return False

    def archive(self, project_id: str, data_id: str) -> None:
        self._data_action("archive", project_id, data_id)

    def unarchive(self, project_id: str, data_id: str) -> None:
        self._data_action("unarchive", project_id, data_id)

    def delete(self, project_id: str, data_id: str) -> None:
        self._data_action("delete", project_id, data_id)

    def create_file(self, project_id: str, folder_path: str, name: str) -> IcaData:
        """createFile with an Idempotency-Key; 409 (a file exists at that path) raises Conflict.

        If the 409 answers a retry of our own request (a server that ignores the key after
        a lost response), the PARTIAL file at that path is the one we created: return it.
        """
        folder_path = folder_path if folder_path.endswith("/") else folder_path + "/"
        route = R["data.create_file"]
        self.cache.clear()
        response = self.http.send(route, path={"projectId": project_id}, json={"name": name, "folderPath": folder_path},
                                  headers={"Idempotency-Key": idempotency_key()}, raise_errors=False)
        retried = bool(getattr(response.raw, "retries", None) and response.raw.retries.history)
        if response.status_code == 409:
            if retried:
                for d in self.list_data(project_id, full_path=folder_path + name):
                    if d.status == "PARTIAL" and d.owning_project_id == project_id:
                        return d
            raise Conflict("ICA", route.call, 409, f"a file already exists at {folder_path}{name}")
        self.http.check(response, route.call)
        return mapping.ica_data(response.json())

    # ------------------------------------------------------------------ tags
    def add_data_user_tags(self, project_id: str, data_id: str, tags: Iterable[str]) -> list[str]:
        """GET the ProjectData, PUT it back with the union of user tags (ICA's PUT replaces the tags,
        so the current ones are always sent along). The spec gives this PUT no If-Match."""
        path = {"projectId": project_id, "dataId": data_id}
        try:
            body = self.http.fetch(R["data.get"], path=path) or {}
            holder = ((body.get("data") or {}).get("details") or {})
            missing = _merge_user_tags(holder, tags)
            if missing:
                self.http.fetch(R["data.update"], path=path, json=body)
            return missing
        finally:
            self.cache.clear()

    def add_analysis_user_tags(self, project_id: str, analysis_id: str, tags: Iterable[str]) -> list[str]:
        """GET the analysis (v4) and its ETag, PUT the union with ``If-Match``. A 409 means it changed
        in between (or a retried PUT of ours already landed): read again and merge again."""
        path = {"projectId": project_id, "analysisId": analysis_id}
        wanted = list(dict.fromkeys(tags))
        first: list[str] | None = None
        try:
            for _ in range(TAG_CONFLICT_ATTEMPTS):
                got = self.http.send(R["analysis.get"], path=path)
                body = got.json() if got.content else {}
                missing = _merge_user_tags(body, wanted)
                first = missing if first is None else first
                if not missing:
                    return first
                etag = got.headers.get("ETag")
                response = self.http.send(R["analysis.update"], path=path, json=body,
                                          headers={"If-Match": etag} if etag else None, raise_errors=False)
                if response.status_code == 409 and etag:
                    continue
                self.http.check(response, R["analysis.update"].call)
                return first
            raise Conflict("ICA", R["analysis.update"].call, 409,
                           f"analysis {analysis_id} kept changing while tagging it ({TAG_CONFLICT_ATTEMPTS} attempts)")
        finally:
            self.cache.clear()

    def upload_bytes(self, project_id: str, data_id: str, content: bytes) -> None:
        try:
            body = self.http.fetch(R["data.temp_credentials"], path={"projectId": project_id, "dataId": data_id},
                                   json={})
            creds = transfer.AwsTempCredentials.from_api(body)
            needs_name = not creds.object_prefix or creds.object_prefix.endswith("/")
            name = self.get_data(project_id, data_id).name if needs_name else ""
            transfer.upload(creds, name, content, endpoint_url=self.s3_endpoint_url,
                            multipart_threshold=self.multipart_threshold)
        finally:
            self.cache.clear()
