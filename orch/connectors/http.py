"""The HTTP layer both platforms share, written once.

One ``requests.Session`` per platform with a connection pool sized to the concurrency;
retries are urllib3's ``Retry`` mounted on the session (exponential backoff with jitter,
``Retry-After`` honoured and capped, 429/5xx and connection errors, a per-call limit and
a per-client budget so a platform that is down fails fast instead of stalling a run).
Every failure becomes an ``orch.errors.ApiError`` naming the platform, the route
template and the status; no URL with a query string, header or secret ever reaches an
exception or a log line.

Paging helpers at the end turn the two ICA styles (cursor, offset) and the two
BaseSpace envelopes (v2 ``Paging``, v1pre3 ``Response``) into flat item iterators.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from orch.connectors import redact
from orch.connectors.routes import ICA_V3, ICA_V4, JSON, Route  # noqa: F401 (re-exported media types)
from orch.errors import ApiError, AuthError, Conflict, NotFound

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Every POST orch sends is safe to repeat: searches, createDownloadUrl and
# createTemporaryCredentials, archive/unarchive/delete requests (the effect is the
# same), dataLinkingBatch (a repeat reports ALREADY_LINKED), createFile (sent with an
# Idempotency-Key; see IcaClient.create_file), BaseSpace archive/restore.
RETRY_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "POST"})


@dataclass(frozen=True)
class HttpConfig:
    """Timeouts and retry limits (defaults suit the real platforms; tests shrink them)."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 6  # per call
    retry_budget: int = 500  # per client, across all calls of a run
    backoff_factor: float = 0.5  # 0.5, 1, 2, 4 ... seconds
    backoff_max: float = 30.0
    backoff_jitter: float = 0.5
    max_retry_after: float = 120.0  # a larger Retry-After is capped
    pool_size: int = 8

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


class RetryBudget:
    """A thread-safe counter of retries left for one client."""

    def __init__(self, total: int):
        self._left = total
        self._lock = threading.Lock()
        self.used = 0

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            self.used += 1
            return True


class _BudgetRetry(Retry):
    """``Retry`` that caps ``Retry-After`` and draws every retry from a shared budget.

    Class attributes (not instance ones) because ``Retry.new`` rebuilds instances from
    a fixed parameter list; each client gets its own subclass.
    """

    budget: RetryBudget = RetryBudget(0)
    max_retry_after: float = 120.0

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), self.max_retry_after)

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if not self.budget.take():
            raise MaxRetryError(_pool, url, error or ResponseError("retry budget exhausted"))
        return super().increment(method, url, response, error, _pool, _stacktrace)


def make_retry(config: HttpConfig, budget: RetryBudget) -> Retry:
    cls = type("OrchRetry", (_BudgetRetry,), {"budget": budget, "max_retry_after": config.max_retry_after})
    return cls(
        total=config.retries,
        connect=config.retries,
        read=config.retries,
        status=config.retries,
        other=0,
        redirect=0,
        backoff_factor=config.backoff_factor,
        backoff_max=config.backoff_max,
        backoff_jitter=config.backoff_jitter,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=RETRY_METHODS,
        respect_retry_after_header=True,
        raise_on_status=False,  # hand the last response back: it becomes a typed ApiError
        raise_on_redirect=False,
    )


class HeaderAuth(AuthBase):
    """Adds one secret header, only to requests under the platform's base URL.

    Presigned download URLs and redirects elsewhere never receive it. ``repr`` hides it.
    """

    def __init__(self, base_url: str, header: str, value: str):
        self._base = base_url.rstrip("/") + "/"
        self._header = header
        self._value = value
        redact.register_secret(value)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if r.url and r.url.startswith(self._base):
            r.headers[self._header] = self._value
        return r

    def __repr__(self) -> str:
        return f"HeaderAuth({self._header}: {redact.REDACTED})"


def _quote(value: Any) -> str:
    return quote(str(value), safe="")


def _error_detail(response: requests.Response) -> str:
    """A short, secret-free reason from an ICA Problem or a BaseSpace error body."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    rs = body.get("ResponseStatus") if isinstance(body.get("ResponseStatus"), dict) else {}
    for value in (body.get("detail"), body.get("title"), body.get("ErrorMessage"), body.get("message"),
                  rs.get("Message")):
        if isinstance(value, str) and value.strip():
            return redact.redact(" ".join(value.split()))[:200]
    return ""


def raise_for_status(platform: str, call: str, response: requests.Response, what: str = "") -> None:
    status = response.status_code
    if status < 400:
        return
    detail = what or _error_detail(response)
    cls = {401: AuthError, 403: AuthError, 404: NotFound, 409: Conflict}.get(status, ApiError)
    if status in (401, 403) and not detail:
        detail = "check the API key" if platform == "ICA" else "check the access token"
    retried = len(response.raw.retries.history) if getattr(response.raw, "retries", None) else 0
    if retried and status in RETRY_STATUSES:
        detail = f"{detail}; gave up after {retried} retries" if detail else f"gave up after {retried} retries"
    raise cls(platform, call, status, detail)


class HttpClient:
    """One platform's session: ``call`` a route template, get parsed JSON or an ApiError."""

    def __init__(self, platform: str, base_url: str, auth: AuthBase | None, *,
                 config: HttpConfig | None = None, default_headers: Mapping[str, str] | None = None):
        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self.config = config or HttpConfig()
        self.budget = RetryBudget(self.config.retry_budget)
        self._auth = auth
        self.session = requests.Session()
        self.session.trust_env = False  # no ~/.netrc Authorization sneaking in
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(1, self.config.pool_size),
                              max_retries=make_retry(self.config, self.budget))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if default_headers:
            self.session.headers.update(default_headers)
        self.calls = 0  # API requests issued by this client (not counting urllib3's retries)
        self.downloads = 0  # GETs of presigned URLs
        redact.install()

    def __repr__(self) -> str:
        return f"HttpClient({self.platform}, {self.base_url})"

    def close(self) -> None:
        self.session.close()

    def url(self, route: str, path: Mapping[str, Any] | None = None) -> str:
        return self.base_url + (route.format(**{k: _quote(v) for k, v in path.items()}) if path else route)

    def request(self, method: str, route: str, *, path: Mapping[str, Any] | None = None,
                params: Any = None, json: Any = None, media: str | None = None,
                headers: Mapping[str, str] | None = None, raise_errors: bool = True) -> requests.Response:
        """Send one call (urllib3 retries underneath); raise ApiError for any status >= 400
        (unless ``raise_errors`` is False: then the caller inspects it and calls ``check``)."""
        call = f"{method} {route}"
        hdrs = dict(headers or {})
        if media:
            hdrs.setdefault("Accept", media)
            if json is not None:
                hdrs.setdefault("Content-Type", media)
        self.calls += 1
        started = time.monotonic()
        try:
            response = self.session.request(method, self.url(route, path), params=params, json=json,
                                            headers=hdrs, auth=self._auth, timeout=self.config.timeout,
                                            allow_redirects=False)
        except requests.exceptions.Timeout:
            raise ApiError(self.platform, call, None, f"timed out after {self.config.read_timeout:g}s") from None
        except requests.exceptions.RequestException as exc:
            raise ApiError(self.platform, call, None, self._connection_detail(exc)) from None
        retried = len(response.raw.retries.history) if getattr(response.raw, "retries", None) else 0
        log.debug("%s %s -> %s in %.3fs%s", self.platform, call, response.status_code,
                  time.monotonic() - started, f" after {retried} retries" if retried else "")
        if raise_errors:
            raise_for_status(self.platform, call, response)
        return response

    def bound(self, timeout: float, retries: int = 1) -> None:
        """Short timeouts and few retries from now on (``orch doctor``: a platform that is down is
        named in seconds, not after the full retry budget)."""
        import dataclasses

        self.config = dataclasses.replace(self.config, connect_timeout=min(self.config.connect_timeout, timeout),
                                          read_timeout=min(self.config.read_timeout, timeout), retries=retries,
                                          backoff_max=min(self.config.backoff_max, 1.0))
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(1, self.config.pool_size),
                              max_retries=make_retry(self.config, self.budget))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def send(self, r: "Route", *, path: Mapping[str, Any] | None = None, params: Any = None, json: Any = None,
             headers: Mapping[str, str] | None = None, raise_errors: bool = True,
             media: str | None = None) -> requests.Response:
        """``request`` one row of the route table (its method, path and media type)."""
        return self.request(r.method, r.path, path=path, params=params, json=json, media=media or r.media,
                            headers=headers, raise_errors=raise_errors)

    def fetch(self, r: "Route", **kw: Any) -> Any:
        """``send`` and parse the JSON body (None for an empty body)."""
        return self.call(r.method, r.path, media=kw.pop("media", None) or r.media, **kw)

    def check(self, response: requests.Response, call: str) -> None:
        raise_for_status(self.platform, call, response)

    def call(self, method: str, route: str, **kw: Any) -> Any:
        """``request`` and parse the JSON body (None for an empty body)."""
        response = self.request(method, route, **kw)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(self.platform, f"{method} {route}", response.status_code,
                           "the response is not JSON") from None

    def download(self, url: str, max_bytes: int, call: str = "GET download URL") -> bytes:
        """GET a presigned URL without any platform credentials; at most ``max_bytes``."""
        host = urlsplit(url).netloc
        self.downloads += 1
        try:
            with self.session.get(url, stream=True, timeout=self.config.timeout, allow_redirects=True) as r:
                raise_for_status(self.platform, call, r)
                chunks, size = [], 0
                for chunk in r.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise ApiError(self.platform, call, r.status_code, f"the file is larger than {max_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        except requests.exceptions.RequestException as exc:
            raise ApiError(self.platform, call, None, f"download from {host} failed ({type(exc).__name__})") from None

    def _connection_detail(self, exc: Exception) -> str:
        reason = exc
        inner = exc.args[0] if exc.args else None
        if isinstance(inner, MaxRetryError) and inner.reason is not None:
            reason = inner.reason
        kind = type(reason).__name__
        text = str(reason).lower()
        if "refused" in text:
            kind = "connection refused"
        elif "budget" in text:
            kind = "retry budget exhausted"
        elif "reset" in text or "aborted" in text:
            kind = "connection reset"
        return f"{kind} by {urlsplit(self.base_url).netloc}"


def idempotency_key() -> str:
    return str(uuid.uuid4())


# ---------------------------------------------------------------------------- paging
Fetch = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class OffsetStyle:
    """Where one offset-paged API keeps its parameters, items and total (botocore's paginator keys)."""

    platform: str
    offset_key: str
    limit_key: str
    items_key: str
    total_key: str
    envelope: str | None = None  # the body key wrapping items and total (v1pre3: "Response")
    total_parent: str | None = None  # the key holding the total inside it (v2: "Paging")
    max_rows: int | None = None  # the server serves no row past this offset
    as_string: bool = False  # ICA types paging parameters as strings

    def parts(self, body: Any) -> tuple[list, Any]:
        body = body if isinstance(body, dict) else {}
        if self.envelope:
            body = body.get(self.envelope) or {}
        holder = (body.get(self.total_parent) or {}) if self.total_parent else body
        return list(body.get(self.items_key) or []), holder.get(self.total_key) if isinstance(holder, dict) else None


ICA_OFFSET = OffsetStyle("ICA", "pageOffset", "pageSize", "items", "totalItemCount", max_rows=200_000,
                         as_string=True)
BSSH_V2 = OffsetStyle("BaseSpace", "Offset", "Limit", "Items", "TotalCount", total_parent="Paging")
BSSH_V1 = OffsetStyle("BaseSpace", "Offset", "Limit", "Items", "TotalCount", envelope="Response")


def offset_pages(fetch: Fetch, style: OffsetStyle, limit: int, *, start: int = 0,
                 extra: Mapping[str, Any] | None = None) -> Iterator[list[dict]]:
    """The one offset loop (ICA offset mode, BaseSpace v2 and v1pre3).

    It cannot stop early: a page may be shorter than asked and the total is optional, so
    it pages on until a page is empty or the offset reaches a reported total. Past the
    server's row cap (ICA: 200,000) it raises instead of silently truncating.
    """
    offset = start
    while True:
        if style.max_rows is not None and offset >= style.max_rows:
            raise ApiError(style.platform, "paging", None,
                           f"more than {style.max_rows:,} rows; offset paging stops there (use cursor paging "
                           f"or a narrower filter)")
        paging = {style.limit_key: limit, style.offset_key: offset}
        if style.as_string:
            paging = {k: str(v) for k, v in paging.items()}
        items, total = style.parts(fetch({**(extra or {}), **paging}))
        yield items
        offset += len(items)
        if not items or (isinstance(total, int) and offset >= total):
            return


def ica_cursor_pages(fetch: Fetch, page_size: int = 1000) -> Iterator[list[dict]]:
    """ICA cursor paging: pageSize, then pageToken=nextPageToken until it is empty.

    A server that answers in offset mode instead (empty token, ``totalItemCount``) is
    followed with pageOffset, so the iterator is correct for either answer.
    """
    params: dict[str, Any] = {"pageSize": str(page_size)}
    seen_tokens: set[str] = set()
    while True:
        body = fetch(dict(params)) or {}
        items = body.get("items") or []
        yield items
        token = body.get("nextPageToken")
        if token:
            if token in seen_tokens:
                raise ApiError("ICA", "paging", None, "the server repeated a page token")
            seen_tokens.add(token)
            params = {"pageSize": str(page_size), "pageToken": token}
            continue
        total = body.get("totalItemCount")
        if isinstance(total, int) and items and len(items) < total and "pageToken" not in params:
            yield from offset_pages(fetch, ICA_OFFSET, page_size, start=len(items))
        return


def ica_offset_pages(fetch: Fetch, page_size: int = 1000, sort: str | None = None) -> Iterator[list[dict]]:
    """ICA offset paging (needed with ``sort``): pageOffset until totalItemCount."""
    return offset_pages(fetch, ICA_OFFSET, page_size, extra={"sort": sort} if sort else None)


def bssh_v2_pages(fetch: Fetch, limit: int = 1024) -> Iterator[list[dict]]:
    """BaseSpace v2: Offset/Limit, ``{Items, Paging}``."""
    return offset_pages(fetch, BSSH_V2, limit)


def bssh_v1_pages(fetch: Fetch, limit: int = 1024) -> Iterator[list[dict]]:
    """BaseSpace v1pre3: the same, inside the ``Response`` envelope."""
    return offset_pages(fetch, BSSH_V1, limit)


def flatten(pages: Iterator[list[dict]]) -> Iterator[dict]:
    for page in pages:
        yield from page
