"""Exception types. Every message is one clear sentence and never contains a secret."""

from __future__ import annotations


class OrchError(Exception):
    """Base class: the CLI prints ``str(exc)`` as a one-line error and exits 1."""


class PolicyError(OrchError):
    """A policy file is malformed or semantically wrong (message carries PATH:LINE:COL)."""


class ConfigError(OrchError):
    """Bad command-line option, variable, credentials file or world file."""


class ApiError(OrchError):
    """A platform call failed after retries.

    ``platform`` is "ICA" or "BaseSpace", ``call`` a short route such as
    ``GET /api/projects/{projectId}/data``, ``status`` the HTTP status (None for a
    connection error). The message never includes headers, tokens or keys.
    """

    def __init__(self, platform: str, call: str, status: int | None, detail: str = ""):
        self.platform = platform
        self.call = call
        self.status = status
        self.detail = detail
        what = f"HTTP {status}" if status is not None else "connection failed"
        msg = f"{platform} {call} failed: {what}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)


class NotFound(ApiError):
    """HTTP 404, or a name that resolves to nothing."""


class Conflict(ApiError):
    """HTTP 409 (for example a file that already exists)."""


class AuthError(ApiError):
    """HTTP 401/403: wrong or missing key/token, or missing scopes."""
