"""Logs of unattended runs: human lines on stderr and in a size-rotated log file, or JSON lines.

The default file is ``orchestrator.log`` in the working directory, like the old script's; every
handler carries orch's redacting filter, so a registered secret (API key, token, webhook URL,
SMTP password) is masked in every record, whichever library logged it.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from pathlib import Path

from orch.connectors.redact import RedactingFilter, redact
from orch.errors import ConfigError
from orch.timeutil import format_ts

DEFAULT_LOG_FILE = "orchestrator.log"
MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 5
_OURS = "orch_ops_handler"  # marks the handlers installed here (setup is idempotent)

_STD_ATTRS = frozenset(vars(logging.LogRecord("x", 0, "x", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and any ``extra=`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        from datetime import datetime, timezone

        doc = {"time": format_ts(datetime.fromtimestamp(record.created, timezone.utc)),
               "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        for k, v in vars(record).items():
            if k not in _STD_ATTRS and not k.startswith("_"):
                doc[k] = v if isinstance(v, (str, int, float, bool, type(None))) else str(v)
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(doc, ensure_ascii=False))


class HumanFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        from datetime import datetime, timezone

        return format_ts(datetime.fromtimestamp(record.created, timezone.utc).replace(microsecond=0))

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_logging(log_file: str | None = DEFAULT_LOG_FILE, fmt: str = "text", level: int = logging.INFO,
                  stream=None, max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> list[logging.Handler]:
    """Configure the ``orch`` logger: stderr (or ``stream``) and, unless ``log_file`` is empty/None,
    a rotating file. Returns the handlers (remove them with ``teardown_logging``)."""
    if fmt not in ("text", "json"):
        raise ConfigError(f"unknown --log-format {fmt!r}; use text or json")
    formatter: logging.Formatter = JsonFormatter() if fmt == "json" else HumanFormatter()
    handlers: list[logging.Handler] = [logging.StreamHandler(stream or sys.stderr)]
    if log_file:
        path = Path(log_file)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups,
                                                                 encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"--log-file {log_file}: cannot open it ({exc.strerror or exc})") from None
    root = logging.getLogger("orch")
    teardown_logging()
    for h in handlers:
        h.setFormatter(formatter)
        h.addFilter(RedactingFilter())
        h.setLevel(level)
        setattr(h, _OURS, True)
        root.addHandler(h)
    root.setLevel(min(level, root.level) if root.level else level)
    root.propagate = False
    return handlers


def teardown_logging() -> None:
    root = logging.getLogger("orch")
    for h in list(root.handlers):
        if getattr(h, _OURS, False):
            root.removeHandler(h)
            h.close()
    root.propagate = True
