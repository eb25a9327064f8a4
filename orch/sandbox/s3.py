"""The sandbox's S3: moto's ThreadedMotoServer on 127.0.0.1 (one per process), one bucket per sandbox.

Temporary credentials handed out by the ICA routes point boto3 here; uploads are read
back into the sandbox state (``DataItem.content``) so they survive a dump.
"""

from __future__ import annotations

import logging
import secrets
import threading

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"


_SHARED: dict[str, object] = {}
_SHARED_LOCK = threading.Lock()


def _shared_moto_endpoint() -> str:
    """One moto server per process (moto's backend is process-wide anyway; each sandbox
    has its own bucket). Started on first use, it lives as long as the process."""
    from moto.server import ThreadedMotoServer

    with _SHARED_LOCK:
        if "endpoint" not in _SHARED:
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            server.start()
            host, port = server.get_host_and_port()
            _SHARED["server"] = server
            _SHARED["endpoint"] = f"http://{host}:{port}"
        return str(_SHARED["endpoint"])


class SandboxS3:
    def __init__(self) -> None:
        self.bucket = f"ica-sandbox-{secrets.token_hex(4)}"  # moto's backend is process-wide
        self.region = REGION
        self._client = None
        self.endpoint_url = ""
        # fixed, obviously fake values: moto accepts any
        self._creds = ("ASIASANDBOX" + secrets.token_hex(4).upper(), secrets.token_hex(20), secrets.token_hex(32))

    def start(self) -> None:
        self.endpoint_url = _shared_moto_endpoint()
        access, secret, session = self._creds
        self._client = boto3.client("s3", endpoint_url=self.endpoint_url, region_name=self.region,
                                    aws_access_key_id=access, aws_secret_access_key=secret,
                                    aws_session_token=session,
                                    config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}))
        self._client.create_bucket(Bucket=self.bucket)

    def stop(self) -> None:
        """Drop this sandbox's bucket (the shared moto server keeps running)."""
        if self._client is None:
            return
        try:
            paginator = self._client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket):
                for obj in page.get("Contents", []):
                    self._client.delete_object(Bucket=self.bucket, Key=obj["Key"])
            self._client.delete_bucket(Bucket=self.bucket)
        except ClientError:
            pass
        self._client = None

    def credentials(self) -> tuple[str, str, str]:
        return self._creds

    @staticmethod
    def object_key(item) -> str:
        """Key of a data item: ``<owning project id><path>``, without the leading slash."""
        return f"{item.owner.id}{item.path}"

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return False
        return True

    def list(self, prefix: str) -> dict[str, str]:
        """Key -> ETag of every object under ``prefix``."""
        out = {}
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                out[obj["Key"]] = obj["ETag"]
        return out

    def get(self, key: str) -> bytes:
        return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def create_kms_key(self, description: str) -> str:
        """A KMS key in moto (same endpoint); its ARN."""
        access, secret, session = self._creds
        kms = boto3.client("kms", endpoint_url=self.endpoint_url, region_name=self.region, aws_access_key_id=access,
                           aws_secret_access_key=secret, aws_session_token=session)
        return kms.create_key(Description=description)["KeyMetadata"]["Arn"]

    def encryption(self, key: str) -> tuple[str | None, str | None]:
        """(ServerSideEncryption, SSEKMSKeyId) moto recorded for an object."""
        head = self._client.head_object(Bucket=self.bucket, Key=key)
        return head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=key)

    def put(self, key: str, body: bytes) -> None:
        self._client.put_object(Bucket=self.bucket, Key=key, Body=body)
