"""Keep secrets out of log records, including those of urllib3, botocore and s3transfer.

Third-party libraries log full URLs (presigned download URLs carry signatures) and, at
DEBUG, botocore logs signed request headers (the session token). Every secret orch
handles is registered here, and a filter attached to each of those libraries' loggers
rewrites the record before any handler sees it.
"""

from __future__ import annotations

import logging
import re
import threading

REDACTED = "***"
_PREFIXES = ("urllib3", "requests", "botocore", "boto3", "s3transfer")
_QUERY_SECRET = re.compile(
    r"(?i)(?<![A-Za-z0-9_-])((?:X-Amz-)?Signature|X-Amz-Credential|X-Amz-Security-Token|AWSAccessKeyId|"
    r"access_token|token)=([^&\s'\"]+)"
)
_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret so that it is masked wherever it shows up in a log record."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Mask every registered secret and every signature-like query parameter in ``text``."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for s in secrets:
        if s in text:
            text = text.replace(s, REDACTED)
    return _QUERY_SECRET.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is not ours to fix
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = RedactingFilter()


def install() -> None:
    """Attach the filter to every existing logger of the HTTP/S3 libraries (idempotent).

    Filters on a logger apply only to records created on that logger, not to records
    propagated from children, hence one per logger. Call again after importing boto3.
    """
    names = [n for n in list(logging.Logger.manager.loggerDict) if n.split(".")[0] in _PREFIXES]
    for name in list(_PREFIXES) + names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
