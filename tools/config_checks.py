"""Checks the settings of mail, calendar and servers share: timeouts, CA files, local hosts.

Each raises `ValueError` with a message that names the setting; callers re-raise it as their
own configuration error.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Mapping
from pathlib import Path


def positive_seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """The number of seconds in variable `name`, or `default` when it is unset or blank.

    Raises:
        ValueError: the value is not a finite number above zero; the message names the variable.

    """
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise ValueError(f"{name} must be a positive number of seconds, not {raw!r}")
    return seconds


def check_ca_file(name: str, ca_file: str) -> None:
    """Check that `ca_file` (the value of variable `name`) is a PEM bundle TLS can load.

    Raises:
        ValueError: it is missing or holds no usable certificate; the message names `name`.

    """
    path = Path(ca_file).expanduser()
    if not path.is_file():
        raise ValueError(f"{name} '{ca_file}' does not exist or is not a file")
    try:
        ssl.create_default_context().load_verify_locations(cafile=str(path))
    except (ssl.SSLError, OSError) as exc:
        raise ValueError(f"{name} '{ca_file}' holds no usable PEM certificate: {exc}") from exc


def is_loopback_host(host: str) -> bool:
    """`localhost` or a loopback address: traffic to it never leaves the machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
