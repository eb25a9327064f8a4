"""Uploads to ICA storage with the temporary AWS credentials ICA hands out (boto3).

Multipart-capable through ``TransferConfig``; the S3 endpoint is overridden only when
``endpoint_url`` is given (the sandbox's moto server), otherwise boto3 talks to AWS.
The credentials are registered with the log redactor before boto3 sees them (botocore
logs signed headers at DEBUG) and never appear in an error.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from orch.connectors import redact
from orch.connectors.routes import ICA_ROUTES
from orch.errors import ApiError

MULTIPART_THRESHOLD = 8 * 1024 * 1024


@dataclass(frozen=True)
class AwsTempCredentials:
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    session_token: str = field(repr=False)
    region: str
    bucket: str
    object_prefix: str
    sse_algorithm: str | None = None
    sse_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> "AwsTempCredentials":
        aws = (body or {}).get("awsTempCredentials") or {}
        try:
            creds = cls(access_key=aws["accessKey"], secret_key=aws["secretKey"],
                        session_token=aws.get("sessionToken") or "", region=aws.get("region") or "us-east-1",
                        bucket=aws["bucket"], object_prefix=aws.get("objectPrefix") or "",
                        sse_algorithm=aws.get("serverSideEncryptionAlgorithm") or None,
                        sse_key=aws.get("serverSideEncryptionKey") or None)
        except (KeyError, TypeError):
            raise ApiError("ICA", ICA_ROUTES["data.temp_credentials"].call, None,
                           "the response holds no AWS temporary credentials") from None
        for secret in (creds.access_key, creds.secret_key, creds.session_token):
            redact.register_secret(secret)
        return creds

    def key_for(self, name: str) -> str:
        """The object key: the prefix itself for a file, or prefix + name for a folder prefix."""
        return self.object_prefix + name if (not self.object_prefix or self.object_prefix.endswith("/")) \
            else self.object_prefix


# ICA's serverSideEncryptionAlgorithm -> boto3's ServerSideEncryption (the spec: "AES256" for SSE-S3,
# "AWS:KMS" for SSE-KMS; none given means AES256)
SSE_ALGORITHMS = {"AES256": "AES256", "AWS:KMS": "aws:kms", "AWS_KMS": "aws:kms", "KMS": "aws:kms"}


def sse_args(creds: AwsTempCredentials) -> dict[str, str] | None:
    """boto3 ExtraArgs for the encryption ICA asks for; an unknown algorithm is refused (fail closed)."""
    if not creds.sse_algorithm:
        return None
    algorithm = SSE_ALGORITHMS.get(creds.sse_algorithm.strip().upper())
    if algorithm is None:
        raise ApiError("ICA", ICA_ROUTES["data.temp_credentials"].call, None,
                       f"unsupported serverSideEncryptionAlgorithm {creds.sse_algorithm!r}")
    extra = {"ServerSideEncryption": algorithm}
    if algorithm == "aws:kms" and creds.sse_key:
        extra["SSEKMSKeyId"] = creds.sse_key
    return extra


def upload(creds: AwsTempCredentials, name: str, content: bytes, *, endpoint_url: str | None = None,
           multipart_threshold: int = MULTIPART_THRESHOLD, call: str = "S3 upload") -> None:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    kwargs: dict[str, Any] = {}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    session = boto3.session.Session(aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key,
                                    aws_session_token=creds.session_token or None, region_name=creds.region)
    client = session.client("s3", config=Config(retries={"max_attempts": 5, "mode": "standard"},
                                                s3={"addressing_style": "path"} if endpoint_url else {}),
                            **kwargs)
    redact.install()  # botocore's loggers exist now
    extra = sse_args(creds)
    config = TransferConfig(multipart_threshold=multipart_threshold, multipart_chunksize=multipart_threshold,
                            max_concurrency=4)
    try:
        client.upload_fileobj(io.BytesIO(content), creds.bucket, creds.key_for(name), ExtraArgs=extra,
                              Config=config)
    except ClientError as exc:
        err = exc.response.get("Error", {}) if hasattr(exc, "response") else {}
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") if hasattr(exc, "response") else None
        raise ApiError("ICA", call, status, redact.redact(str(err.get("Code") or "S3 error"))) from None
    except (BotoCoreError, Exception) as exc:  # connection errors, S3UploadFailedError, ...
        raise ApiError("ICA", call, None, type(exc).__name__) from None
