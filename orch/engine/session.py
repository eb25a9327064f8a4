"""Connections for one command: the platforms (real, or an in-process sandbox) and the clock.

Connectors are built lazily: a run whose enabled policies never touch BaseSpace needs no
BaseSpace credentials. With ``--sandbox`` an in-process sandbox starts from
``.orch/sandbox/world.yaml`` when a previous command left one, else from ``--world`` or the
demo world shipped with orch; after the command its state (clock included) is written back
there, so plan, apply and plan again see one evolving world until ``orch sandbox reset``.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from orch.errors import ConfigError
from orch.settings import DEFAULT_ICA_URL, SANDBOX_DIR, RunSettings
from orch.timeutil import format_ts, utcnow

#: beside the saved world: the real time it was saved at (the clock catches up on the next command)
SAVED_AT = "saved_at"

SANDBOX_WORLD = "world.yaml"


class Lazy:
    """A stand-in that builds the real client on first use (and raises its ConfigError then)."""

    def __init__(self, build: Callable[[], Any], what: str):
        self._build = build
        self._what = what
        self._obj: Any = None

    @property
    def built(self) -> bool:
        return self._obj is not None

    def get(self) -> Any:
        if self._obj is None:
            self._obj = self._build()
        return self._obj

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name == "clear_cache" and self._obj is None:
            return lambda: None  # nothing read yet, nothing to forget
        return getattr(self.get(), name)

    def __repr__(self) -> str:
        return f"Lazy({self._what})"


def demo_world_path() -> str:
    return str(resources.files("orch") / "data" / "demo.yaml")


def sandbox_state_path(base: str | os.PathLike = ".") -> Path:
    return Path(base) / SANDBOX_DIR / SANDBOX_WORLD


class Session:
    """``ica``/``bssh`` (lazy), ``now``, and the sandbox when there is one. Use as a context manager."""

    def __init__(self, settings: RunSettings):
        self.settings = settings
        self.sandbox = None
        self._dump_to: Path | None = None
        self._save_lock = threading.Lock()
        self._saved_writes = 0
        if settings.sandbox:
            self._start_sandbox()
            sb = self.sandbox
            self.ica = Lazy(lambda: _ica_client(sb.ica_url, sb.world.api_key, sb.s3_endpoint_url,
                                                settings.concurrency, link_poll=(0.25, 2.0)), "ICA sandbox")
            self.bssh = Lazy(lambda: _bssh_client(sb.basespace_url, sb.world.access_token, settings.concurrency,
                                                  confirmed_routes=sb.confirmed_routes()), "BaseSpace sandbox")
            self.now: datetime = settings.now or sb.clock.now().replace(microsecond=0)
        else:
            self.ica = Lazy(self._real_ica, "ICA")
            self.bssh = Lazy(self._real_bssh, "BaseSpace")
            self.now = settings.now or utcnow().replace(microsecond=0)

    # -- real platforms
    def _real_ica(self):
        from orch.connectors.credentials import load_ica_key

        s = self.settings
        key = load_ica_key(s.api_key_file)
        url = s.ica_url or os.environ.get("ORCH_ICA_URL") or DEFAULT_ICA_URL
        return _ica_client(url, key, s.s3_endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3"), s.concurrency)

    def _real_bssh(self):
        from orch.connectors.credentials import load_basespace

        s = self.settings
        server, token = load_basespace(s.basespace_config)
        url = s.basespace_url or os.environ.get("ORCH_BASESPACE_URL") or server
        return _bssh_client(url, token, s.concurrency)

    # -- sandbox
    def _start_sandbox(self) -> None:
        from orch.sandbox.server import Sandbox

        state = sandbox_state_path()
        if state.exists():
            source = str(state)
            if self.settings.world:
                # a persisted world wins: the user must reset to start from another one
                import sys

                print(f"note: using the sandbox state in {state} (run `orch sandbox reset` to start from "
                      f"{self.settings.world})", file=sys.stderr)
        else:
            source = self.settings.world or demo_world_path()
            if not Path(source).exists():
                raise ConfigError(f"sandbox world {source} does not exist")
        self.sandbox = Sandbox(source)
        self.sandbox.start()
        self._dump_to = state
        if state.exists():
            self._catch_up(state)

    def _catch_up(self, state: Path) -> None:
        """The sandbox clock runs with real time (contracts section 3), also between --sandbox commands:
        move it on by the real time since the state was saved, so asynchronous work completes."""
        from orch.timeutil import parse_ts

        stamp = state.with_name(SAVED_AT)
        try:
            elapsed = utcnow() - parse_ts(stamp.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return  # saved by an older orch: the clock resumes where it stopped
        if elapsed.total_seconds() > 0:
            self.advance(elapsed)

    def advance(self, delta) -> datetime:
        """Move the sandbox clock forward; work whose time has come completes."""
        now = self.sandbox.clock.advance(delta)
        self.sandbox.settle(now)
        if not self.settings.now:
            self.now = now.replace(microsecond=0)
        return now

    def checkpoint(self) -> None:
        """Save the sandbox world now if a request may have changed it since the last save (apply
        calls this before each ledger record, so a kill never leaves the ledger ahead of the world)."""
        if self.sandbox is None or self._dump_to is None:
            return
        with self._save_lock:
            counts = self.sandbox.request_counts().get("by_route", {})
            writes = sum(n for route, n in counts.items() if not route.startswith(("GET ", "HEAD ")))
            if writes == self._saved_writes:
                return
            self._save()
            self._saved_writes = writes

    def _save(self) -> None:
        save_sandbox_state(self.sandbox.dump_state(), self._dump_to)
        self._dump_to.with_name(SAVED_AT).write_text(format_ts(utcnow()) + "\n", encoding="utf-8")

    def close(self, persist: bool = True) -> None:
        for client in (self.ica, self.bssh):
            if isinstance(client, Lazy) and client.built:
                close = getattr(client.get(), "close", None)
                if close:
                    close()
        if self.sandbox is not None:
            try:
                if persist and self._dump_to is not None:
                    with self._save_lock:
                        self._save()
            finally:
                self.sandbox.stop()
                self.sandbox = None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def save_sandbox_state(world: dict, path: Path) -> None:
    """Write the world atomically (a crash never leaves half a world)."""
    from orch.sandbox.generate import dump_world_yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    text = dump_world_yaml(world).replace("generated by `orch sandbox generate`",
                                          "saved by orch after a --sandbox command", 1)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _ica_client(url: str, key: str, s3: str | None, concurrency: int, **kw: Any):
    from orch.connectors.ica import IcaClient

    return IcaClient(url, key, s3_endpoint_url=s3, concurrency=concurrency, **kw)


def _bssh_client(url: str, token: str, concurrency: int, confirmed_routes: Any = None):
    from orch.connectors.basespace import BasespaceClient

    return BasespaceClient(url, token, concurrency=concurrency, confirmed_routes=confirmed_routes)
