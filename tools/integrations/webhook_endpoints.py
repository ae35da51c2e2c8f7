"""The webhook subscriptions: which endpoints get which events, read from `webhooks.json`.

Each endpoint names its URL, its events and its signing secret (from the vault or the
environment, `${VAR}` expanded); a file that cannot be used is refused with the reason.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memory.secrets import SecretLookup
from tools.http import HttpSettingsError, register_secret_url, service_url

EVENTS = ("email_classified", "meeting_scheduled", "reply_sent")
"""The events an endpoint gets when it names none."""
HEALTH_EVENT = "health_changed"
"""A part's health changed state: sent only to endpoints that name it (it is not in `EVENTS`)."""


WEBHOOKS_FILE = "webhooks.json"


NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class WebhookConfigError(ValueError):
    """A webhooks file or variable that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Endpoint:
    """One subscribed receiver; its URL and secret are never shown."""

    name: str
    url: str = field(repr=False)
    events: frozenset[str]
    secret: str = field(repr=False)

    @property
    def host(self) -> str:
        """The receiver's host, safe to show (the path may carry a token)."""
        return re.sub(r"^[a-z]+://", "", self.url).split("/")[0].split("@")[-1]


def webhooks_path(home: Path, environ: Mapping[str, str] | None = None) -> Path:
    """Where the subscriptions live.

    `$WEBHOOKS_CONFIG`, else `webhooks.json` in the data directory.
    """
    env = os.environ if environ is None else environ
    return (
        Path(env["WEBHOOKS_CONFIG"]).expanduser()
        if env.get("WEBHOOKS_CONFIG")
        else home / WEBHOOKS_FILE
    )


def secret_name(endpoint: str) -> str:
    """The credential name of an endpoint's signing secret."""
    return f"webhook.secret:{endpoint}"


def _events(value: Any, where: str) -> frozenset[str]:
    if value is None:
        return frozenset(EVENTS)
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise WebhookConfigError(f"{where}: 'events' must be a list of event names")
    names = {v.strip() for v in items if v.strip()}
    unknown = sorted(names - {*EVENTS, HEALTH_EVENT})
    if unknown:
        known = ", ".join((*EVENTS, HEALTH_EVENT))
        raise WebhookConfigError(f"{where}: unknown event(s) {', '.join(unknown)}; known: {known}")
    return frozenset(names)


def _endpoint(
    name: str, url: str, events: frozenset[str], secrets: SecretLookup, where: str
) -> Endpoint:
    try:
        checked = service_url(f"{where}: url", url)
    except HttpSettingsError as err:
        raise WebhookConfigError(str(err)) from None
    secret = secrets(secret_name(name))
    if not secret:
        raise WebhookConfigError(
            f"{where}: no signing secret for webhook {name!r}: set the credential "
            f"{secret_name(name)} (WEBHOOK_SECRET_{_env_suffix(name)}, or WEBHOOK_SECRET for all)"
        )
    register_secret_url(checked)
    return Endpoint(name=name, url=checked, events=events, secret=secret)


def _env_suffix(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def load_endpoints(path: Path, environ: Mapping[str, str], secrets: SecretLookup) -> list[Endpoint]:
    """The subscriptions of `path` (if it exists) and of `WEBHOOK_URL` (the endpoint `default`).

    File shape: `{"endpoints": {NAME: {"url": "https://…", "events": ["reply_sent", …]}}}`;
    `${VAR}` in a URL is read from the environment; `events` defaults to all of them.
    """
    endpoints: list[Endpoint] = []
    if path.exists():
        try:
            raw = json.loads(path.read_text("utf-8"))
        except OSError as err:
            raise WebhookConfigError(f"{path}: cannot read it: {err.strerror}") from None
        except json.JSONDecodeError as err:
            raise WebhookConfigError(
                f"{path}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
            ) from None
        if not isinstance(raw, dict) or set(raw) - {"endpoints", "$schema"}:
            raise WebhookConfigError(
                f'{path}: must be {{"endpoints": {{NAME: {{"url", "events"}}}}}}'
            )
        entries = raw.get("endpoints") or {}
        if not isinstance(entries, dict):
            raise WebhookConfigError(f"{path}: 'endpoints' must be an object of NAME: endpoint")
        for name, entry in entries.items():
            where = f"{path}: endpoints.{name}"
            if not NAME.match(name):
                raise WebhookConfigError(f"{where}: a name is letters, digits, '-' and '_'")
            if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
                raise WebhookConfigError(f"{where}: needs a 'url' string")
            unknown = sorted(set(entry) - {"url", "events"})
            if unknown:
                raise WebhookConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
            url = _expand(entry["url"], environ, where)
            events = _events(entry.get("events"), where)
            endpoints.append(_endpoint(name, url, events, secrets, where))
    if environ.get("WEBHOOK_URL"):
        if any(e.name == "default" for e in endpoints):
            raise WebhookConfigError(f"{path}: the name 'default' is taken by WEBHOOK_URL")
        events = _events(environ.get("WEBHOOK_EVENTS") or None, "WEBHOOK_EVENTS")
        endpoints.append(
            _endpoint("default", environ["WEBHOOK_URL"], events, secrets, "WEBHOOK_URL")
        )
    return endpoints


def _expand(value: str, environ: Mapping[str, str], where: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise WebhookConfigError(f"{where}: url uses ${{{name}}}, which is not set")
        return environ[name]

    return _VARIABLE.sub(replace, value)
