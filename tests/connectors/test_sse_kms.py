"""Uploads on SSE-KMS projects (issue 9 item 5): ICA's AWS:KMS + key ARN become boto3's aws:kms and
SSEKMSKeyId; the sandbox's KMS project (a moto KMS key) refuses an object without that key."""

from __future__ import annotations

import dataclasses

import pytest

from connector_helpers import DEST, ica_client
from orch.connectors import transfer
from orch.connectors.routes import ICA_ROUTES
from orch.errors import ApiError


@pytest.fixture
def kms_sandbox(make_sandbox, small_world):
    small_world["ica"]["projects"][1]["kms"] = True  # Ken_demos
    return make_sandbox(small_world)


@pytest.mark.parametrize("size", [100, 9 * 1024 * 1024])  # single PUT and multipart
def test_upload_to_a_kms_project_carries_the_project_key(kms_sandbox, size):
    ica = ica_client(kms_sandbox, multipart_threshold=5 * 1024 * 1024)
    f = ica.create_file(DEST, "/fastq_manifests/", f"m{size}.csv")
    ica.upload_bytes(DEST, f.id, b"x" * size)
    got = ica.get_data(DEST, f.id)
    assert got.status == "AVAILABLE" and got.size == size


def test_an_upload_without_the_kms_key_is_refused_by_the_kms_project(kms_sandbox):
    ica = ica_client(kms_sandbox)
    f = ica.create_file(DEST, "/fastq_manifests/", "plain.csv")
    body = ica.http.fetch(ICA_ROUTES["data.temp_credentials"], path={"projectId": DEST, "dataId": f.id}, json={})
    creds = transfer.AwsTempCredentials.from_api(body)
    assert creds.sse_algorithm == "AWS:KMS" and creds.sse_key.startswith("arn:aws:kms:")
    plain = dataclasses.replace(creds, sse_algorithm="AES256", sse_key=None)  # a client ignoring the KMS key
    transfer.upload(plain, "plain.csv", b"a,b\n", endpoint_url=kms_sandbox.s3_endpoint_url)
    ica.clear_cache()
    assert ica.get_data(DEST, f.id).status == "PARTIAL"


def test_sse_mapping_and_an_unknown_algorithm_fails_closed():
    base = dict(access_key="a", secret_key="s", session_token="t", region="us-east-1", bucket="b", object_prefix="p")
    kms = transfer.AwsTempCredentials(**base, sse_algorithm="AWS:KMS", sse_key="arn:aws:kms:us-east-1:1:key/k")
    assert transfer.sse_args(kms) == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "arn:aws:kms:us-east-1:1:key/k"}
    s3 = transfer.AwsTempCredentials(**base, sse_algorithm="AES256", sse_key="ignored")
    assert transfer.sse_args(s3) == {"ServerSideEncryption": "AES256"}
    with pytest.raises(ApiError, match="unsupported serverSideEncryptionAlgorithm 'DSSE'"):
        transfer.sse_args(transfer.AwsTempCredentials(**base, sse_algorithm="DSSE"))
