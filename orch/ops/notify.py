"""Notifications: a Slack-compatible JSON webhook (``requests``) and e-mail (``smtplib``).

A target is written as text (``--notify``, the ``notify`` action's ``to``); secrets never appear in
it, only where to read them:

- ``webhook:env:VAR`` / ``webhook:file:PATH``: the webhook URL (itself a secret: it carries the
  token) from an environment variable or a file;
- ``email:ADDR[,ADDR...]``: SMTP from the environment: ``ORCH_SMTP_HOST`` (default localhost),
  ``ORCH_SMTP_PORT`` (default 25, or 587 with STARTTLS, 465 with SSL), ``ORCH_SMTP_TLS``
  (``none``|``starttls``|``ssl``, default none), ``ORCH_SMTP_USER``, ``ORCH_SMTP_PASSWORD_FILE`` or
  ``ORCH_SMTP_PASSWORD``, ``ORCH_SMTP_FROM`` (default ``orch@<host>``).

Every secret read is registered with ``orch.connectors.redact`` (masked in every log record), and a
failed delivery raises ``NotifyError`` whose text names the target, never the URL or password.
Messages are rendered from Jinja2 templates in ``orch/ops/templates``.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import requests

from orch.connectors.redact import register_secret
from orch.errors import ConfigError, OrchError

TIMEOUT_S = 10.0


class NotifyError(OrchError):
    """A notification could not be delivered (the message names the target, never its secret)."""


@dataclass(frozen=True)
class Message:
    subject: str
    text: str


class Sender(Protocol):
    label: str

    def send(self, message: Message) -> None: ...


@lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("orch.ops", "templates"), undefined=StrictUndefined,
                       autoescape=False, keep_trailing_newline=False)


def render(template: str, **values: Any) -> str:
    """Render ``orch/ops/templates/<template>.txt.j2`` (a missing value is an error, not a blank)."""
    from jinja2 import TemplateError

    try:
        return _env().get_template(f"{template}.txt.j2").render(host=socket.gethostname(), **values).strip()
    except TemplateError as exc:
        raise ConfigError(f"notification template {template}: {exc}") from None


def _secret_from(kind: str, where: str, what: str) -> str:
    if kind == "env":
        value = (os.environ.get(where) or "").strip()
        if not value:
            raise ConfigError(f"{what}: environment variable {where} is not set")
    elif kind == "file":
        try:
            value = Path(where).expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{what}: cannot read {where} ({exc.strerror or type(exc).__name__})") from None
        if not value:
            raise ConfigError(f"{what}: {where} is empty")
    else:
        raise ConfigError(f"{what}: use env:VAR or file:PATH, not {kind!r}")
    register_secret(value)
    return value


@dataclass
class WebhookSender:
    """POST ``{"text": ...}`` (Slack incoming webhooks, Mattermost, Teams' Slack-compatible hooks)."""

    url: str = field(repr=False)
    label: str = "webhook"
    timeout_s: float = TIMEOUT_S

    def __post_init__(self) -> None:
        register_secret(self.url)
        if not self.url.startswith(("https://", "http://")):
            raise ConfigError(f"{self.label}: the webhook URL must start with https:// (or http://)")

    def send(self, message: Message) -> None:
        try:
            r = requests.post(self.url, json={"text": message.text}, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise NotifyError(f"{self.label}: delivery failed ({type(exc).__name__})") from None
        if r.status_code >= 300:
            raise NotifyError(f"{self.label}: delivery refused with HTTP {r.status_code}")


@dataclass
class EmailSender:
    recipients: list[str]
    host: str = "localhost"
    port: int = 25
    tls: str = "none"  # none | starttls | ssl
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = ""
    label: str = "email"
    timeout_s: float = TIMEOUT_S

    @classmethod
    def from_env(cls, recipients: list[str], label: str) -> "EmailSender":
        env = os.environ
        tls = (env.get("ORCH_SMTP_TLS") or "none").lower()
        if tls not in ("none", "starttls", "ssl"):
            raise ConfigError(f"ORCH_SMTP_TLS={tls!r}: use none, starttls or ssl")
        port_text = env.get("ORCH_SMTP_PORT") or {"none": "25", "starttls": "587", "ssl": "465"}[tls]
        try:
            port = int(port_text)
        except ValueError:
            raise ConfigError(f"ORCH_SMTP_PORT={port_text!r} is not a port number") from None
        password = None
        if env.get("ORCH_SMTP_PASSWORD_FILE"):
            password = _secret_from("file", env["ORCH_SMTP_PASSWORD_FILE"], "ORCH_SMTP_PASSWORD_FILE")
        elif env.get("ORCH_SMTP_PASSWORD"):
            password = _secret_from("env", "ORCH_SMTP_PASSWORD", "ORCH_SMTP_PASSWORD")
        return cls(recipients=recipients, host=env.get("ORCH_SMTP_HOST") or "localhost", port=port, tls=tls,
                   user=env.get("ORCH_SMTP_USER") or None, password=password,
                   sender=env.get("ORCH_SMTP_FROM") or f"orch@{socket.gethostname()}", label=label)

    def send(self, message: Message) -> None:
        msg = EmailMessage()
        msg["Subject"], msg["From"], msg["To"] = message.subject, self.sender, ", ".join(self.recipients)
        msg.set_content(message.text + "\n")
        try:
            if self.tls == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s,
                                                      context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
            with smtp:
                if self.tls == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            code = getattr(exc, "smtp_code", None)
            raise NotifyError(f"{self.label}: delivery to {self.host}:{self.port} failed "
                              f"({type(exc).__name__}{f' {code}' if code else ''})") from None


def parse_target(spec: str) -> Sender:
    """``webhook:env:VAR``, ``webhook:file:PATH`` or ``email:ADDR[,ADDR]`` (see the module doc)."""
    kind, _, rest = spec.partition(":")
    if kind == "webhook":
        source, _, where = rest.partition(":")
        if source not in ("env", "file") or not where:  # never echo it: it may be the URL itself
            raise ConfigError("a webhook notify target is webhook:env:VAR or webhook:file:PATH "
                              "(never the URL itself: it is a secret)")
        return WebhookSender(_secret_from(source, where, f"notify target {spec}"), label=f"webhook ({source} {where})")
    if kind == "email":
        recipients = [a.strip() for a in rest.split(",") if a.strip()]
        if not recipients or not all("@" in a for a in recipients):
            raise ConfigError(f"notify target {spec!r}: write email:someone@example.org[,other@example.org]")
        return EmailSender.from_env(recipients, label=f"email to {', '.join(recipients)}")
    raise ConfigError(f"notify target of kind {kind!r}: use webhook:env:VAR, webhook:file:PATH or email:ADDR")
