"""Uploads through ICA temporary credentials land in the sandbox's S3 (moto) via real boto3,
mark the file AVAILABLE with its size, download back byte-identical and survive a dump."""

from __future__ import annotations

import os

import boto3
import requests
from botocore.config import Config

from orch.sandbox.server import Sandbox

DST = "0d6f0000-0000-4000-8000-000000000002"
H = {"X-API-Key": "test-key"}


def _s3(creds: dict, endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name=creds["region"],
                        aws_access_key_id=creds["accessKey"], aws_secret_access_key=creds["secretKey"],
                        aws_session_token=creds["sessionToken"], config=Config(s3={"addressing_style": "path"}))


def test_boto3_upload_lands_and_downloads_byte_identical(sandbox, tmp_path):
    r = requests.post(f"{sandbox.ica_url}/api/projects/{DST}/data:createFileWithTemporaryCredentials", headers=H,
                      json={"name": "big.bin", "folderPath": "/uploads/"})
    assert r.status_code == 201
    body = r.json()
    creds = body["tempCredentials"]["awsTempCredentials"]
    data_id = body["data"]["id"]
    payload = os.urandom(6 * 1024 * 1024 + 123)  # above the 5 MB part size: multipart
    src = tmp_path / "big.bin"
    src.write_bytes(payload)
    s3 = _s3(creds, sandbox.s3_endpoint_url)
    from boto3.s3.transfer import TransferConfig

    s3.upload_file(str(src), creds["bucket"], creds["objectPrefix"],
                   Config=TransferConfig(multipart_threshold=5 * 1024 * 1024))
    got = requests.get(f"{sandbox.ica_url}/api/projects/{DST}/data/{data_id}", headers=H).json()
    assert got["data"]["details"]["status"] == "AVAILABLE"
    assert got["data"]["details"]["fileSizeInBytes"] == len(payload)
    url = requests.post(f"{sandbox.ica_url}/api/projects/{DST}/data/{data_id}:createDownloadUrl", headers=H).json()["url"]
    assert requests.get(url).content == payload
    # the state (used by `orch --sandbox` between commands) carries the bytes
    state = sandbox.dump_state()
    with Sandbox(state) as again:
        url = requests.post(f"{again.ica_url}/api/projects/{DST}/data/{data_id}:createDownloadUrl",
                            headers={"X-API-Key": "test-key"}).json()["url"]
        assert requests.get(url).content == payload


def test_rclone_credentials_upload_via_file_path_prefix(sandbox):
    made = requests.post(f"{sandbox.ica_url}/api/projects/{DST}/data:createFile", headers=H,
                         json={"name": "m.csv", "folderPath": "/fastq_manifests/"}).json()
    data_id = made["data"]["id"]
    rc = requests.post(f"{sandbox.ica_url}/api/projects/{DST}/data/{data_id}:createTemporaryCredentials", headers=H,
                       json={"credentialsFormat": "RCLONE"}).json()["rcloneTempCredentials"]
    cfg = rc["config"]
    bucket, key = rc["filePathPrefix"].split("/", 1)
    s3 = boto3.client("s3", endpoint_url=sandbox.s3_endpoint_url, region_name=cfg["region"],
                      aws_access_key_id=cfg["access_key_id"], aws_secret_access_key=cfg["secret_access_key"],
                      aws_session_token=cfg["session_token"])
    s3.put_object(Bucket=bucket, Key=key, Body=b"file_name,file_path\n")
    state = requests.get(sandbox.control_url + "/state").json()
    dst = next(p for p in state["ica"]["projects"] if p["id"] == DST)
    entry = next(d for d in dst["data"] if d["id"] == data_id)
    assert entry["status"] == "AVAILABLE" and entry["content"] == "file_name,file_path\n" and entry["size"] == 20


def test_upload_credentials_refused_for_available_files(sandbox):
    src = "0d6f0000-0000-4000-8000-000000000001"
    r = requests.post(f"{sandbox.ica_url}/api/projects/{src}/data/fil.a0000000000000000000000000000001"
                      ":createTemporaryCredentials", headers=H)
    assert r.status_code == 400 and r.headers["Content-Type"] == "application/problem+json"


def test_create_file_conflict_is_409_problem(sandbox):
    url = f"{sandbox.ica_url}/api/projects/{DST}/data:createFile"
    assert requests.post(url, headers=H, json={"name": "a.csv", "folderPath": "/m/"}).status_code == 201
    r = requests.post(url, headers=H, json={"name": "a.csv", "folderPath": "/m/"})
    assert r.status_code == 409 and r.json()["status"] == 409
    assert requests.post(url, headers=H, json={"name": "a.csv", "folderPath": "no-slash"}).status_code == 400


def test_folder_credentials_upload_creates_files(sandbox):
    made = requests.post(f"{sandbox.ica_url}/api/projects/{DST}/data:createFile", headers=H,
                         json={"name": "seed.txt", "folderPath": "/batch/"}).json()
    folder = requests.get(f"{sandbox.ica_url}/api/projects/{DST}/data", headers=H,
                          params={"filePath": "/batch/", "filePathMatchMode": "FULL_CASE_INSENSITIVE"}).json()
    folder_id = folder["items"][0]["data"]["id"]
    assert folder_id.startswith("fol.") and made["data"]["id"].startswith("fil.")
    creds = requests.post(f"{sandbox.ica_url}/api/projects/{DST}/data/{folder_id}:createTemporaryCredentials",
                          headers=H).json()["awsTempCredentials"]
    assert creds["objectPrefix"].endswith("/batch/")
    s3 = _s3(creds, sandbox.s3_endpoint_url)
    s3.put_object(Bucket=creds["bucket"], Key=creds["objectPrefix"] + "sub/a.txt", Body=b"A")
    s3.put_object(Bucket=creds["bucket"], Key=creds["objectPrefix"] + "seed.txt", Body=b"seed")
    listed = requests.get(f"{sandbox.ica_url}/api/projects/{DST}/data", headers=H,
                          params={"filePath": "/batch/", "type": "FILE"}).json()["items"]
    got = {d["data"]["details"]["path"]: (d["data"]["details"]["status"], d["data"]["details"]["fileSizeInBytes"])
           for d in listed}
    assert got == {"/batch/seed.txt": ("AVAILABLE", 4), "/batch/sub/a.txt": ("AVAILABLE", 1)}
