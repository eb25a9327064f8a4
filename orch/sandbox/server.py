"""The sandbox server: ICA (``/ica/rest``), BaseSpace (``/basespace``) and control routes on
one werkzeug server in a thread, plus moto's S3 server for uploads.

``Sandbox(world)`` is used by tests (``tests/conftest.py``), by ``orch --sandbox`` (in
process; ``dump_state()`` persists between commands) and by ``orch sandbox serve``.
Requests are served one at a time under a lock, after settling the asynchronous work
whose time has come on the sandbox clock.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import io
import logging
import secrets
import signal
import sys
import threading
from collections import Counter
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from orch.errors import ConfigError
from orch.sandbox import basespace_api, control, ica_api, notifications
from orch.sandbox.clock import SandboxClock
from orch.sandbox.s3 import SandboxS3
from orch.sandbox.state import DataItem, World, data_id_for
from orch.sandbox.web import Ctx, HttpError, json_response
from orch.sandbox.world import dump_world, load_world

ICA_PREFIX = "/ica/rest"
BS_PREFIX = "/basespace"
ROUTE_KEY = "orch.sandbox.route"


@lru_cache(maxsize=1)
def _route_map() -> Map:
    """Every route of the sandbox (built once: the routes are module constants)."""
    rules = [r.werkzeug_rule(ICA_PREFIX) for r in ica_api.ROUTES]
    rules += [r.werkzeug_rule(BS_PREFIX) for r in basespace_api.ROUTES]
    rules += [r.werkzeug_rule("") for r in control.ROUTES]
    rules += [r.werkzeug_rule(ICA_PREFIX) for r in notifications.ROUTES]  # notification API (ops)
    rules += [r.werkzeug_rule("") for r in notifications.CONTROL_ROUTES]
    return Map(rules, strict_slashes=False, merge_slashes=False)


class _App:
    """The WSGI application (wrapped by the fault injector when it is available)."""

    def __init__(self, sandbox: "Sandbox"):
        self.sandbox = sandbox
        self.map = _route_map()

    def __call__(self, environ: dict, start_response) -> Any:
        request = Request(environ)
        response = self.handle(request, environ)
        return response(environ, start_response)

    def handle(self, request: Request, environ: dict) -> Response:
        path = request.path
        api = "ica" if path.startswith(ICA_PREFIX + "/") else "bs" if path.startswith(BS_PREFIX + "/") else "control"
        adapter = self.map.bind_to_environ(environ)
        try:
            route, args = adapter.match()
        except (NotFound, MethodNotAllowed) as exc:
            status = 405 if isinstance(exc, MethodNotAllowed) else 404
            return self._error(api, status, f"no route {request.method} {path}", None)
        prefix = ICA_PREFIX if api == "ica" else BS_PREFIX if api == "bs" else ""
        template = route.template
        environ[ROUTE_KEY] = template
        sb = self.sandbox
        if template in sb.refused_routes():  # as a server that does not know the route: 404, no item named
            return self._error(api, 404, "No HTTP resource was found that matches the request URI.", None)
        with sb.lock:
            now = sb.clock.now()
            sb.settle(now)
            ctx = Ctx(request=request, sandbox=sb, now=now)
            try:
                if api == "ica" and not sb.ica_authorized(request):
                    raise HttpError(401, "missing or wrong X-API-Key")
                if api == "bs" and not basespace_api.authorized(ctx):
                    raise HttpError(401, "missing or wrong access token")
                return route.handler(ctx, **args)
            except HttpError as exc:
                return self._error(api, exc.status, exc.message, route.handler)
            except Exception:  # a sandbox bug: answer 500 like a platform would, and log it
                logging.getLogger("orch.sandbox").exception("sandbox error on %s %s%s", request.method, prefix, template)
                return self._error(api, 500, "internal sandbox error", route.handler)

    @staticmethod
    def _error(api: str, status: int, message: str, handler) -> Response:
        if api == "ica":
            return ica_api.problem(status, message)
        if api == "bs":
            if getattr(handler, "v1", False):
                return basespace_api.v1_error(status, message)
            return basespace_api.v2_error(status, message)
        return json_response({"error": message}, status)


class Sandbox:
    """A running (after ``start()``) emulator of ICA, BaseSpace and S3 on 127.0.0.1."""

    def __init__(self, world: World | Mapping | str | Path, *, latency_ms: float = 0, error_rate: float = 0.0,
                 rate_limit: float = 0.0, seed: int = 0, reset_rate: float = 0.0, host: str = "127.0.0.1",
                 port: int = 0, refuse_routes: list[str] | tuple[str, ...] = ()):
        self.world: World = world if isinstance(world, World) else load_world(world)
        self.world.refused_routes = {normalise_route(r) for r in (*self.world.refused_routes, *refuse_routes)}
        self.clock = SandboxClock(self.world.now)
        self.lock = threading.RLock()
        self.s3 = SandboxS3()
        self._faults = dict(latency_ms=latency_ms, error_rate=error_rate, rate_limit=rate_limit, seed=seed,
                            reset_rate=reset_rate)
        self._host, self._port = host, port
        self._server = None
        self._thread: threading.Thread | None = None
        self._secret = secrets.token_bytes(16)
        self._uploads: dict[str, str] = {}  # data id -> S3 key (a folder: prefix) awaiting an upload
        self._seen: dict[str, str] = {}  # S3 key -> ETag already absorbed (folder uploads)
        self._counts: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self.base_url = ""
        self.notifications = notifications.Notifications(self)  # events to SQS (orch/sandbox/notifications.py)
        self.app = _App(self)
        self.wsgi_app = self._wrap(self.app)  # the FaultInjector (``.stats``) when faults are on
        self._served = self._counting(self.wsgi_app)

    # ------------------------------------------------------------------ lifecycle
    def _wrap(self, app):
        if not any(self._faults[k] for k in ("latency_ms", "error_rate", "rate_limit", "reset_rate")):
            return app
        try:
            from orch.sandbox.faults import FaultInjector
        except ImportError:  # the fault injector ships separately; without it, no faults
            return app
        return FaultInjector(app, **self._faults)

    def _counting(self, inner):
        """Outermost layer: count every platform request by route, faulted ones included."""
        adapter_map = self.app.map

        def app(environ: dict, start_response):
            path = environ.get("PATH_INFO", "")
            if not path.startswith("/_sandbox"):
                try:
                    route, _ = adapter_map.bind_to_environ(environ).match()
                except (NotFound, MethodNotAllowed):
                    pass
                else:
                    environ[ROUTE_KEY] = route.template
                    self.count(route.template)
            return inner(environ, start_response)

        return app

    def start(self) -> "Sandbox":
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.s3.start()
        try:  # werkzeug prints two lines of its own and exits when the port is taken: one error instead
            with contextlib.redirect_stderr(io.StringIO()):
                self._server = make_server(self._host, self._port, self._served, threaded=True)
        except SystemExit:
            raise OSError(errno.EADDRINUSE, "address already in use") from None
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        server = self._server
        self._thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), name="orch-sandbox",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.notifications.stop()
        self.s3.stop()

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def ica_url(self) -> str:
        return self.base_url + ICA_PREFIX

    @property
    def basespace_url(self) -> str:
        return self.base_url + BS_PREFIX

    @property
    def s3_endpoint_url(self) -> str:
        return self.s3.endpoint_url

    @property
    def control_url(self) -> str:
        return self.base_url + "/_sandbox"

    def __repr__(self) -> str:  # never the keys
        return f"Sandbox({self.base_url or 'not started'})"

    # ------------------------------------------------------------------ refused routes
    def refuse_route(self, route: str) -> None:
        """Answer ``"METHOD /template"`` (as /_sandbox/requests names it) like an unknown route."""
        self.world.refused_routes.add(normalise_route(route))

    def refused_routes(self) -> set[str]:
        return self.world.refused_routes

    def confirmed_routes(self) -> list[str]:
        """orch's unverified routes this sandbox serves (not refused): with ``--sandbox`` they are known
        to work, so planning treats them as confirmed (the sandbox's assumption is in its README)."""
        from orch.connectors.routes import all_routes

        served = {r.template for r in basespace_api.ROUTES} - self.refused_routes()
        return sorted(r.call for r in all_routes() if r.level == "unverified" and r.call in served)

    # ------------------------------------------------------------------ state
    def ica_authorized(self, request: Request) -> bool:
        key = request.headers.get("X-API-Key", "")
        return bool(key) and hmac.compare_digest(key, self.world.api_key)

    def settle(self, now: datetime) -> None:
        with self.lock:
            self._absorb_s3_uploads(now)
            seen = self.notifications.before_settle(now)
            self.world.settle(now)
            self.notifications.after_settle(seen, now)

    def dump_state(self) -> dict[str, Any]:
        """The current state in the world format (``now`` = the sandbox clock)."""
        with self.lock:
            now = self.clock.now()
            self.settle(now)
            return dump_world(self.world, now)

    # ------------------------------------------------------------------ files and S3
    def file_token(self, data_id: str, op: str) -> str:
        return hmac.new(self._secret, f"{op}:{data_id}".encode(), hashlib.sha256).hexdigest()[:32]

    def expect_upload(self, item: DataItem, key: str) -> None:
        """Write credentials were issued for ``item``: absorb what lands at ``key`` (a folder: under it)."""
        self._uploads[item.id] = key

    def absorb_upload(self, item: DataItem, body: bytes, now: datetime) -> None:
        item.content = body
        item.size = len(body)
        item.status = "AVAILABLE"
        item.time_modified = now

    def _absorb_s3_uploads(self, now: datetime) -> None:
        """Turn finished uploads into AVAILABLE files (called before every request)."""
        for data_id, key in list(self._uploads.items()):
            item = self.world.data_by_id.get(data_id)
            if item is None:
                del self._uploads[data_id]
            elif not item.is_folder:
                if self.s3.exists(key) and self._encrypted_as_required(item, key):
                    self.absorb_upload(item, self.s3.get(key), now)
                    del self._uploads[data_id]  # AVAILABLE now; new credentials need a PARTIAL file
            else:  # every new object under a folder's prefix becomes a file in it
                for obj_key, etag in self.s3.list(key).items():
                    if self._seen.get(obj_key) == etag:
                        continue
                    rel = obj_key[len(key):]
                    if not rel or rel.endswith("/") or "//" in rel:
                        continue
                    path = item.path + rel
                    target = item.owner.data.get(path)
                    if target is None:
                        self.world.ensure_folders(item.owner, path, now)
                        target = DataItem(id=data_id_for(item.owner.id, path), owner=item.owner, path=path,
                                          status="PARTIAL", time_created=now, time_modified=now, size=0)
                        self.world.add_data(target)
                    if target.is_folder or target.status not in ("PARTIAL", "AVAILABLE") or \
                            not self._encrypted_as_required(target, obj_key):
                        continue
                    self.absorb_upload(target, self.s3.get(obj_key), now)
                    self._seen[obj_key] = etag

    def kms_key(self, project) -> str:
        """The SSE-KMS key of a ``kms`` project (created in moto on first use)."""
        if project.kms_key_arn is None:
            project.kms_key_arn = self.s3.create_kms_key(f"orch sandbox project {project.name}")
        return project.kms_key_arn

    def _encrypted_as_required(self, item: DataItem, key: str) -> bool:
        """A ``kms`` project's bucket policy denies objects without its KMS key (as SSE-KMS ICA storage
        would): such an upload is dropped and the file stays PARTIAL."""
        if not item.owner.kms:
            return True
        algorithm, key_id = self.s3.encryption(key)
        if algorithm == "aws:kms" and key_id == self.kms_key(item.owner):
            return True
        logging.getLogger("orch.sandbox").warning("upload to %s refused: not encrypted with the project's KMS key",
                                                  item.path)
        self.s3.delete(key)
        return False

    # ------------------------------------------------------------------ request counts
    def count(self, template: str) -> None:
        with self._count_lock:
            self._counts[template] += 1

    def request_counts(self) -> dict[str, Any]:
        with self._count_lock:
            return {"total": sum(self._counts.values()), "by_route": dict(sorted(self._counts.items()))}

    def reset_request_counts(self) -> None:
        with self._count_lock:
            self._counts.clear()


def normalise_route(route: str) -> str:
    """``"DELETE /v2/datasets/{id}"`` -> the template the request log uses; ConfigError if no such route."""
    parts = route.split()
    if len(parts) != 2:
        raise ConfigError(f"refuse route {route!r}: give 'METHOD /path', e.g. 'DELETE /v2/datasets/{{id}}'")
    method, path = parts[0].upper(), parts[1]
    for prefix in (ICA_PREFIX, BS_PREFIX):
        if path.startswith(prefix + "/"):
            path = path[len(prefix):]
    known = {r.template for r in (*ica_api.ROUTES, *basespace_api.ROUTES)}
    wanted = f"{method} {path}"
    if wanted not in known:
        raise ConfigError(f"refuse route {route!r}: the sandbox serves no such route (see orch/sandbox/README.md)")
    return wanted


def serve(world_path: str, host: str = "127.0.0.1", port: int = 0, latency_ms: float = 0, error_rate: float = 0.0,
          rate_limit: float = 0.0, seed: int = 0, reset_rate: float = 0.0,
          refuse_routes: tuple[str, ...] | list[str] = ()) -> None:
    """``orch sandbox serve``: print the three URL lines, serve until Ctrl-C."""
    try:
        sandbox = Sandbox(world_path, latency_ms=latency_ms, error_rate=error_rate, rate_limit=rate_limit, seed=seed,
                          reset_rate=reset_rate, host=host, port=port, refuse_routes=refuse_routes)
    except ValueError as exc:  # a fault option out of range
        raise ConfigError(f"sandbox serve: {exc}") from None
    try:
        sandbox.start()
    except OSError as exc:
        sandbox.stop()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    # Ctrl-C and SIGTERM (docker stop, systemd) both stop cleanly, even when the parent started us
    # with SIGINT ignored (a background job of a non-interactive shell inherits SIG_IGN).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        print(f"ica_url={sandbox.ica_url}", flush=True)
        print(f"basespace_url={sandbox.basespace_url}", flush=True)
        print(f"s3_endpoint_url={sandbox.s3_endpoint_url}", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        sys.stdout.flush()
