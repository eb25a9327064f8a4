"""The old script's call pattern (keng404/umich_orchestrator, umich_orchestrator.py and its helper
modules), replayed call by call against the sandbox, so ``make bench`` can set orch's requests
beside it on the same world.

One ``run()`` is one invocation of the script (the wrapper loops it every 10 minutes). Calls, in
order (see ``../shared/reference/seed-behaviour.md``):

1. ``GET /v1pre3/oauthv2/token/current`` (scopes); the source and destination project ids by
   ``GET /api/projects?search=NAME``; every analysis (``GET /analyses``, pages of 1000).
2. Hand-off, per SUCCEEDED BCL Convert analysis not in the managed table (no age limit):
   ``GET /analyses/{id}``; its outputs (``GET .../outputs``, ``GET /data/{id}`` per output item,
   then the descendants of the output folder); one ``dataLinkingBatch`` POST for its MGI FASTQs,
   polled (a status GET, then GET + 5 s wait until SUCCEEDED); the manifest: create the file,
   ``:createTemporaryCredentials``, S3 upload; the row in the managed table.
3. Delete, per final analysis older than the delete age: ``GET .../outputs``, the full outputs
   again (as in 2), ``GET /data/{id}`` of ``bsshoutput.json`` and, when AVAILABLE,
   ``:createTemporaryCredentials`` and an S3 download; ICA-managed: ``GET /data/{id}``, then
   ``:delete`` (AVAILABLE) or ``:unarchive`` + ``:delete`` (ARCHIVED). Then the BaseSpace projects
   (``/v1pre3/users/current/projects``, Limit 200), each named project's datasets
   (``/v2/projects/{id}/datasets``, Limit 200), the runs twice (Limit 200); ``POST /v2/restore``
   for archived ones; one ``DELETE`` per dataset and per run of the whole account; ``DELETE /v2/trash``.
4. Archive, per final analysis in the archive window: as in 3 with ``:archive``; the BaseSpace
   projects, datasets and runs (twice) again; ``POST /v2/archive`` for datasets, then for runs.

Where the replay departs from the literal code (each choice makes the old script cheaper or lets it
finish; none makes it dearer):
- paging is followed to the end (the script's BaseSpace loop never advances past 200 items and
  would loop forever on this world; its ICA loop drops the first page, which costs no request);
  the age windows are applied as intended (the script's one-page bug returns every analysis);
- the descendants of an output folder are read with one recursive ``GET /data?filePath=``
  listing (the reference describes ``/children`` as returning descendants; the sandbox's
  ``/children`` lists direct children), plus the script's re-fetch of the first page;
- "ICA-managed" is "no ``bsshoutput.json``" (the reference; the code looks for ``_tags.json``);
- restore/archive bodies are sent in batches of 250 ids (the platform's limit; the script sends
  one body); a manifest file is created with ``data:createFile``; downloads ask for read-only
  credentials; runs are listed with ``GET /v2/runs`` (the sandbox has no v1pre3 run listing) and deleted
  with ``DELETE /v1pre3/runs/{id}`` (the route the platform serves; the script's v2 URL is answered 405);
  the 5 s poll wait moves the sandbox clock instead of sleeping.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

import requests

from orch.timeutil import parse_ts

BCL = re.compile(r"(?i)bcl")
CONVERT = re.compile(r"(?i)convert")
FINAL = ("SUCCEEDED", "FAILED", "FAILEDFINAL", "ABORTED")
V3 = "application/vnd.illumina.v3+json"
V4 = "application/vnd.illumina.v4+json"
BS_PAGE = 200
BULK = 250


@dataclass
class OldScript:
    """The script's state between runs (its managed table) and its connections."""

    ica_url: str
    bs_url: str
    api_key: str
    token: str
    advance: Callable[[str], None]  # moves the sandbox clock (the poll's 5 s wait)
    source: str = "ken_debug"
    destination: str = "Ken_demos"
    days_to_archive: int = 60
    days_to_delete: int = 90
    managed: dict[str, str] = field(default_factory=dict)
    s3_reads: int = 0
    s3_writes: int = 0

    def __post_init__(self) -> None:
        self.http = requests.Session()
        self._s3 = None

    # ------------------------------------------------------------------ HTTP
    def ica(self, method: str, path: str, *, params: Any = None, body: Any = None, media: str = V3) -> Any:
        headers = {"Accept": media, "Content-Type": media, "X-API-Key": self.api_key}
        r = self.http.request(method, self.ica_url + path, params=params, headers=headers,
                              data=json.dumps(body) if body is not None else None, timeout=120)
        try:
            return r.json() if r.content else None
        except ValueError:
            return None

    def bs(self, method: str, path: str, *, params: Any = None, body: Any = None) -> Any:
        headers = {"Accept": "application/json", "Authorization": f"Bearer {self.token}",
                   "Content-Type": "application/json"}
        r = self.http.request(method, self.bs_url + path, params=params, headers=headers,
                              data=json.dumps(body) if body is not None else None, timeout=120)
        try:
            return r.json() if r.content else None
        except ValueError:
            return None

    def ica_pages(self, path: str, params: dict[str, Any], refetch_first: bool = False) -> list[dict]:
        items: list[dict] = []
        first = True
        token = None
        while True:
            p = dict(params, pageSize=1000)
            if token:
                p["pageToken"] = token
            page = self.ica("GET", path, params=p) or {}
            if first and refetch_first and page.get("nextPageToken"):
                self.ica("GET", path, params=p)  # the script fetches the first page again
            first = False
            items += page.get("items") or []
            token = page.get("nextPageToken")
            if not token:
                return items

    def bs_pages(self, path: str, v1: bool) -> list[dict]:
        items: list[dict] = []
        offset = 0
        while True:
            page = self.bs("GET", path, params={"Limit": BS_PAGE, "Offset": offset}) or {}
            body = page.get("Response", page) if v1 else page
            got = body.get("Items") or []
            items += got
            total = (body if v1 else body.get("Paging", {})).get("TotalCount", 0)
            offset += BS_PAGE
            if not got or offset >= total:
                return items

    # ------------------------------------------------------------------ pieces of the script
    def project_id(self, name: str) -> str:
        page = self.ica("GET", "/api/projects", params={"search": name, "includeHiddenProjects": "true",
                                                       "pageOffset": 0, "pageSize": 1000}) or {}
        return next(p["id"] for p in page.get("items", []) if p["name"] == name)

    def full_output(self, pid: str, aid: str) -> tuple[str | None, list[dict]]:
        """get_full_analysis_output: outputs, one GET per output item, then the folder's descendants."""
        outs = self.ica("GET", f"/api/projects/{pid}/analyses/{aid}/outputs") or {}
        folder, path, listing = None, None, []
        for item in ((outs.get("items") or [{}])[0].get("data") or []):
            folder = item.get("dataId")
            d = self.ica("GET", f"/api/projects/{pid}/data/{folder}") or {}
            path = ((d.get("data") or {}).get("details") or {}).get("path")
            if path:
                listing.append(d["data"])
        if folder and path:
            listing += [x["data"] for x in self.ica_pages(f"/api/projects/{pid}/data",
                                                          {"filePath": path, "filePathMatchMode": "STARTS_WITH_CASE_INSENSITIVE"},
                                                          refetch_first=True)]
        return folder, listing

    def read_json(self, pid: str, data_id: str) -> dict:
        creds = self.ica("POST", f"/api/projects/{pid}/data/{data_id}:createTemporaryCredentials",
                         body={"credentialsFormat": "RCLONE", "readOnlyCredentials": True}) or {}
        rc = creds.get("rcloneTempCredentials") or {}
        bucket, _, key = (rc.get("filePathPrefix") or "/").partition("/")
        self.s3_reads += 1
        try:
            return json.loads(self.s3(rc).get_object(Bucket=bucket, Key=key)["Body"].read())
        except Exception:  # noqa: BLE001 -- the script would crash; the replay notes nothing and goes on
            return {}

    def s3(self, rc: dict):
        if self._s3 is None:
            import boto3

            cfg = rc["config"]
            self._s3 = boto3.client("s3", endpoint_url=cfg["endpoint"], region_name=cfg["region"],
                                    aws_access_key_id=cfg["access_key_id"],
                                    aws_secret_access_key=cfg["secret_access_key"],
                                    aws_session_token=cfg["session_token"])
        return self._s3

    # ------------------------------------------------------------------ one run
    def run(self, now: datetime) -> None:
        self.bs("GET", "/v1pre3/oauthv2/token/current")
        src, dst = self.project_id(self.source), self.project_id(self.destination)
        analyses = self.ica_pages(f"/api/projects/{src}/analyses", {})
        bcl = [a for a in analyses if BCL.search(a["pipeline"]["code"]) and CONVERT.search(a["pipeline"]["code"])]
        for a in bcl:
            if a["status"] == "SUCCEEDED" and a["id"] not in self.managed:
                self.hand_off(src, dst, a)
        start = lambda a: parse_ts(a["startDate"])  # noqa: E731
        delete_cut = now - timedelta(days=self.days_to_delete)
        archive_cut = now - timedelta(days=self.days_to_archive)
        old = [a for a in self.ica_pages(f"/api/projects/{src}/analyses", {}) if start(a) < delete_cut]
        self.lifecycle(src, old, "delete", delete_cut, None)
        window = [a for a in self.ica_pages(f"/api/projects/{src}/analyses", {})
                  if delete_cut <= start(a) < archive_cut]
        self.lifecycle(src, window, "archive", archive_cut, delete_cut)

    def hand_off(self, src: str, dst: str, a: dict) -> None:
        meta = self.ica("GET", f"/api/projects/{src}/analyses/{a['id']}") or a
        _, outputs = self.full_output(src, a["id"])
        mgi = [o for o in outputs if (o.get("details") or {}).get("name", "").endswith(".fastq.gz")
               and not o["details"]["name"].startswith("Undetermined") and o["details"]["name"][:1] == "M"]
        if mgi:
            batch = self.ica("POST", f"/api/projects/{dst}/dataLinkingBatch", media=V4,
                             body={"items": [{"dataId": o["id"]} for o in mgi]}) or {}
            bid = batch.get("id")
            status = self.ica("GET", f"/api/projects/{dst}/dataLinkingBatch/{bid}") or {}
            polls = 0
            while (status.get("job") or {}).get("status") not in ("SUCCEEDED", None) and polls < 50:
                status = self.ica("GET", f"/api/projects/{dst}/dataLinkingBatch/{bid}") or {}
                self.advance("5s")
                polls += 1
            name = f"{meta.get('reference', a['id'])}.download_manifest.csv"
            rows = ["file_name,file_path,data_id,project_id"] + [
                f"{o['details']['name']},{o['details']['path']},{o['id']},{dst}" for o in mgi]
            created = self.ica("POST", f"/api/projects/{dst}/data:createFile",
                               body={"name": name, "folderPath": "/fastq_manifests/"}) or {}
            fid = (created.get("data") or {}).get("id")
            if not fid:  # 409: the script looks the name up and goes on with that file (whose upload fails)
                found = self.ica("GET", f"/api/projects/{dst}/data",
                                 params={"filename": name, "filenameMatchMode": "FUZZY", "pageSize": 1000}) or {}
                fid = next((x["data"]["id"] for x in found.get("items") or []), None)
            if fid:
                creds = self.ica("POST", f"/api/projects/{dst}/data/{fid}:createTemporaryCredentials",
                                 body={"credentialsFormat": "RCLONE"}) or {}
                rc = creds.get("rcloneTempCredentials")
                if rc:
                    bucket, _, key = rc["filePathPrefix"].partition("/")
                    self.s3(rc).put_object(Bucket=bucket, Key=key, Body="\n".join(rows).encode() + b"\n")
                    self.s3_writes += 1
        self.managed[a["id"]] = meta.get("reference", "Unknown")

    def lifecycle(self, src: str, analyses: list[dict], mode: str, cut: datetime, cut2: datetime | None) -> None:
        names: set[str] = set()
        for a in analyses:
            self.ica("GET", f"/api/projects/{src}/analyses/{a['id']}/outputs")
            folder, outputs = self.full_output(src, a["id"])
            if not outputs:
                continue
            bssh = [o for o in outputs if (o.get("details") or {}).get("name") == "bsshoutput.json"]
            if bssh:
                d = self.ica("GET", f"/api/projects/{src}/data/{bssh[0]['id']}") or {}
                if ((d.get("data") or {}).get("details") or {}).get("status") == "AVAILABLE":
                    doc = self.read_json(src, bssh[0]["id"])
                    names |= {p.get("Name") for p in (doc.get("Projects") or {}).values() if isinstance(p, dict)}
            elif folder:
                d = self.ica("GET", f"/api/projects/{src}/data/{folder}") or {}
                status = ((d.get("data") or {}).get("details") or {}).get("status")
                if mode == "delete" and status == "AVAILABLE":
                    self.ica("POST", f"/api/projects/{src}/data/{folder}:delete")
                elif mode == "delete" and status == "ARCHIVED":
                    self.ica("POST", f"/api/projects/{src}/data/{folder}:unarchive")
                    self.ica("POST", f"/api/projects/{src}/data/{folder}:delete")
                elif mode == "archive" and status == "AVAILABLE":
                    self.ica("POST", f"/api/projects/{src}/data/{folder}:archive")
        projects = {p["Name"]: p for p in self.bs_pages("/v1pre3/users/current/projects", v1=True)}
        ids = [projects[n]["Id"] for n in sorted(n for n in names if n) if n in projects]

        def in_window(when: str) -> bool:
            t = parse_ts(when)
            return t < cut and (cut2 is None or t >= cut2)

        available, archived = [], []
        for pid in ids:
            for ds in self.bs_pages(f"/v2/projects/{pid}/datasets", v1=False):
                if in_window(ds["DateCreated"]):
                    (archived if ds.get("IsArchived") else available).append(ds["Id"])
        self.bs_pages("/v2/runs", v1=False)  # find_basespace_runs lists the runs twice
        runs = [r for r in self.bs_pages("/v2/runs", v1=False) if in_window(r["DateCreated"])]
        run_avail = [r["Id"] for r in runs if not r.get("IsArchived")]
        run_arch = [r["Id"] for r in runs if r.get("IsArchived")]
        if mode == "delete":
            self.bulk("/v2/restore", "DatasetIds", archived)
            for ds in available + archived:
                self.bs("DELETE", f"/v2/datasets/{ds}")
            self.bulk("/v2/restore", "RunIds", run_arch)
            for r in run_avail + run_arch:
                self.bs("DELETE", f"/v1pre3/runs/{r}")
            if available or archived or runs:
                self.bs("DELETE", "/v2/trash")
        else:
            self.bulk("/v2/archive", "DatasetIds", available)
            self.bulk("/v2/archive", "RunIds", run_avail)

    def bulk(self, path: str, key: str, ids: list[str]) -> None:
        for i in range(0, len(ids), BULK):
            self.bs("POST", path, body={key: ids[i:i + BULK]})

