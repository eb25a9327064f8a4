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
import re
import stat
from pathlib import Path

from orch.connectors import redact
from orch.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_BASESPACE_SERVER = "https://api.basespace.illumina.com"


#: no credentials file is larger; a bigger one (or /dev/zero) is refused after this many bytes
MAX_SECRET_FILE = 64 * 1024
_BOM = "\ufeff"
_CFG_LINE = re.compile(r"(?im)^\s*(apiServer|accessToken)\s*=")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _read_secret_file(path: str | os.PathLike, option: str) -> str:
    """The text of a credentials file: a regular file (never a FIFO or device: no hang, no
    endless read), at most ``MAX_SECRET_FILE`` bytes, UTF-8. Errors never quote the content."""
    p = Path(path).expanduser()
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigError(f"{option}: file {str(p)!r} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"{option}: {str(p)!r} is a directory, not a file") from None
    except OSError as exc:
        raise ConfigError(f"{option}: cannot read {str(p)!r} ({exc.strerror or type(exc).__name__})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = _kind(mode)
            raise ConfigError(f"{option}: {str(p)!r} is {what}, not a file" if what.startswith("a ")
                              else f"{option}: {str(p)!r} is not a regular file")
        data = os.read(fd, MAX_SECRET_FILE + 1)
    except OSError as exc:
        raise ConfigError(f"{option}: cannot read {str(p)!r} ({exc.strerror or type(exc).__name__})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_SECRET_FILE:
        raise ConfigError(f"{option}: {str(p)!r} is larger than {MAX_SECRET_FILE // 1024} KiB; "
                          "it is not a credentials file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{option}: {str(p)!r} is not UTF-8 text") from None
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("credentials file %s is readable by other users; run: chmod 600 %s", p, p)
    return text


def check_secret(value: str, what: str) -> str:
    """A key or token as found (surrounding blanks and newlines stripped), or a ConfigError that
    names the problem and never the value: a BOM, a carriage return, more than one line, a
    BaseSpace config in place of a key, or characters an HTTP header cannot carry."""
    if value.startswith(_BOM):
        raise ConfigError(f"{what} starts with a byte-order mark (BOM); save it as plain UTF-8 without one")
    if "\r" in value:
        raise ConfigError(f"{what} holds a carriage return (a Windows line ending); save it with "
                          "Unix line endings (e.g. dos2unix)")
    value = value.strip()
    if "\n" in value:
        if _CFG_LINE.search(value):
            raise ConfigError(f"{what} looks like a BaseSpace config (apiServer/accessToken lines), not an "
                              "ICA API key; give that file with --basespace-config")
        raise ConfigError(f"{what} has more than one line; it must hold the key alone on one line")
    if _CFG_LINE.search(value):
        raise ConfigError(f"{what} looks like a BaseSpace config line, not an ICA API key; give that file "
                          "with --basespace-config")
    if any(not (33 <= ord(c) <= 126) for c in value):
        raise ConfigError(f"{what} holds spaces, control or non-ASCII characters; a key or token is "
                          "printable ASCII only")
    return value


def load_ica_key(file: str | os.PathLike | None = None) -> str:
    """The ICA API key from ``file``, else ``ICA_API_KEY_FILE``, else ``ICA_API_KEY``."""
    file = file or os.environ.get("ICA_API_KEY_FILE") or None
    if file:
        raw = _read_secret_file(file, "--api-key-file")
        if not raw.strip():
            raise ConfigError(f"--api-key-file: {str(file)!r} is empty")
        key = check_secret(raw, f"--api-key-file: {str(file)!r}")
    else:
        raw = os.environ.get("ICA_API_KEY") or ""
        if not raw.strip():
            raise ConfigError("no ICA API key: pass --api-key-file FILE, or set ICA_API_KEY_FILE or ICA_API_KEY")
        key = check_secret(raw, "ICA_API_KEY")
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
        cfg = parse_basespace_cfg(_read_secret_file(config_file, "--basespace-config").lstrip(_BOM))
        token = cfg.get("accessToken", "")
        if not token:
            raise ConfigError(f"--basespace-config: {str(config_file)!r} has no accessToken line "
                              "(expected: accessToken = <token>)")
        token = check_secret(token, f"--basespace-config: the accessToken of {str(config_file)!r}")
        server = cfg.get("apiServer") or os.environ.get("BASESPACE_API_SERVER") or DEFAULT_BASESPACE_SERVER
    else:
        token = (os.environ.get("BASESPACE_ACCESS_TOKEN") or "").strip()
        if token:
            token = check_secret(os.environ["BASESPACE_ACCESS_TOKEN"], "BASESPACE_ACCESS_TOKEN")
        if not token:
            raise ConfigError("no BaseSpace access token: pass --basespace-config FILE (default.cfg format), "
                              "set BASESPACE_CONFIG or BASESPACE_ACCESS_TOKEN, or run `bs auth` "
                              "(~/.basespace/default.cfg)")
        server = (os.environ.get("BASESPACE_API_SERVER") or DEFAULT_BASESPACE_SERVER).strip()
    redact.register_secret(token)
    return server.rstrip("/"), token
