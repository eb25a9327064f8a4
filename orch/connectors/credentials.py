"""Where the ICA API key and the BaseSpace token come from.

ICA: a key file (whole file, whitespace stripped) or ``ICA_API_KEY``.
BaseSpace: a ``default.cfg`` (``apiServer = ...``, ``accessToken = ...``; spaces around
``=`` optional, ``apiServer`` honoured for regional accounts) or ``BASESPACE_ACCESS_TOKEN``
(+ ``BASESPACE_API_SERVER``). A credentials file readable by group or others is
warned about. Nothing here ever logs or raises with a secret in the text.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from orch.connectors import redact
from orch.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_BASESPACE_SERVER = "https://api.basespace.illumina.com"


def _read_secret_file(path: str | os.PathLike, option: str) -> str:
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"{option}: file {str(p)!r} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"{option}: {str(p)!r} is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{option}: cannot read {str(p)!r} ({type(exc).__name__})") from None
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("credentials file %s is readable by other users; run: chmod 600 %s", p, p)
    return text


def load_ica_key(file: str | os.PathLike | None = None) -> str:
    """The ICA API key from ``file``, else ``ICA_API_KEY_FILE``, else ``ICA_API_KEY``."""
    file = file or os.environ.get("ICA_API_KEY_FILE") or None
    if file:
        key = _read_secret_file(file, "--api-key-file").strip()
        if not key:
            raise ConfigError(f"--api-key-file: {str(file)!r} is empty")
    else:
        key = (os.environ.get("ICA_API_KEY") or "").strip()
        if not key:
            raise ConfigError("no ICA API key: pass --api-key-file FILE, or set ICA_API_KEY_FILE or ICA_API_KEY")
    redact.register_secret(key)
    return key


def parse_basespace_cfg(text: str) -> dict[str, str]:
    """``key = value`` lines (spaces optional, ``#``/``;`` comments, an optional [section])."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        out[key.strip()] = value.strip().strip('"').strip("'")
    return out


def load_basespace(config_file: str | os.PathLike | None = None) -> tuple[str, str]:
    """``(api_server, access_token)`` from the config file, else ``BASESPACE_CONFIG``, else the env
    (``BASESPACE_ACCESS_TOKEN``), else ``~/.basespace/default.cfg`` when it exists (the BaseSpace CLI's).

    The env route reads ``BASESPACE_ACCESS_TOKEN`` and ``BASESPACE_API_SERVER`` (default
    https://api.basespace.illumina.com).
    """
    config_file = config_file or os.environ.get("BASESPACE_CONFIG") or None
    if not config_file and not (os.environ.get("BASESPACE_ACCESS_TOKEN") or "").strip():
        default = Path.home() / ".basespace" / "default.cfg"  # where `bs auth` (and the old script) keep it
        if default.is_file():
            config_file = default
    if config_file:
        cfg = parse_basespace_cfg(_read_secret_file(config_file, "--basespace-config"))
        token = cfg.get("accessToken", "")
        if not token:
            raise ConfigError(f"--basespace-config: {str(config_file)!r} has no accessToken line "
                              "(expected: accessToken = <token>)")
        server = cfg.get("apiServer") or os.environ.get("BASESPACE_API_SERVER") or DEFAULT_BASESPACE_SERVER
    else:
        token = (os.environ.get("BASESPACE_ACCESS_TOKEN") or "").strip()
        if not token:
            raise ConfigError("no BaseSpace access token: pass --basespace-config FILE (default.cfg format), "
                              "set BASESPACE_CONFIG or BASESPACE_ACCESS_TOKEN, or run `bs auth` "
                              "(~/.basespace/default.cfg)")
        server = (os.environ.get("BASESPACE_API_SERVER") or DEFAULT_BASESPACE_SERVER).strip()
    redact.register_secret(token)
    return server.rstrip("/"), token
