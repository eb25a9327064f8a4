"""What orch has learnt about an unverified route on one account: confirmed, unavailable or unknown.

Kept in the ledger: through ``Ledger.route_state`` / ``set_route_state`` once the ledger carries
them (issue 10's migration), until then in the ledger's key/value cache under
``route_state|ACCOUNT|ROUTE`` (the same file, no schema change). A route is *confirmed* once a
call by it has succeeded on that account, *unavailable* once the server answered it as a route it
does not know; planning uses it to decide whether a restore-for-delete may be paid for.

The account is the BaseSpace API host plus the token's user id (``GET /v2/users/current``),
so a sandbox on another port, or the same user on another region, is kept apart where it must be.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

CONFIRMED, UNAVAILABLE, UNKNOWN = "confirmed", "unavailable", "unknown"
STATES = (CONFIRMED, UNAVAILABLE, UNKNOWN)


def bssh_account(bssh: Any) -> str:
    """The account key of a BaseSpace connection (``BasespaceClient.account()``); ``basespace:?`` for
    anything that cannot tell (a test fake)."""
    fn = getattr(bssh, "account", None)
    return fn() if callable(fn) else "basespace:?"


def account_key(base_url: str, user_id: str) -> str:
    return f"basespace:{urlsplit(base_url).hostname or '?'}:{user_id or '?'}"


def dataset_delete_route(bssh: Any) -> str:
    """The dataset delete route this connection uses (the deployment's, or the table's)."""
    from orch.connectors.routes import bs_routes

    table = getattr(bssh, "routes", None) or bs_routes()
    return table["dataset.delete"].call


def _key(account: str, route: str) -> tuple[str, str, str]:
    return ("route_state", account, route)


def get(ledger: Any, account: str, route: str, declared: Any = ()) -> str:
    """The state of ``route`` (``"METHOD /path"``) on ``account``: unavailable when the ledger says so,
    else confirmed when the ledger or the deployment (``declared``) says so, else unknown."""
    recorded = _recorded(ledger, account, route)
    if recorded == UNKNOWN and route in set(declared or ()):
        return CONFIRMED
    return recorded


def _recorded(ledger: Any, account: str, route: str) -> str:
    if ledger is None:
        return UNKNOWN
    native = getattr(ledger, "route_state", None)
    if callable(native):
        return native(account, route) or UNKNOWN
    got = ledger.cache_get(_key(account, route))
    return got.get("state", UNKNOWN) if isinstance(got, dict) else UNKNOWN


def put(ledger: Any, account: str, route: str, state: str, detail: str = "") -> None:
    if ledger is None or state not in STATES:
        return
    native = getattr(ledger, "set_route_state", None)
    if callable(native):
        native(account, route, state)
        return
    ledger.cache_put(_key(account, route), {"state": state, "detail": detail[:200]})
