"""`smart-inbox ui`: check the set-up, then become the Chainlit chat server.

Chainlit's app root stays `ui/` (its `.chainlit/`, `public/` and `chainlit.md` live there);
`ui/app.py` is the file it runs, and it only loads the chat from `ui.chat`.
"""

from __future__ import annotations

import argparse
import os
import secrets
import string
import sys
from pathlib import Path

from memory.paths import data_dir
from ui.chat.users import UserStore
from ui.cli.errors import UserError
from ui.cli.server_checks import LOOPBACK, open_app_database
from ui.langgraph_server import ServerError, check_port

APP_ROOT = Path(__file__).resolve().parents[1]
"""Where Chainlit finds its configuration, public files and readme page."""


def chat(args: argparse.Namespace) -> int:
    """Start Chainlit on the app in `ui/app.py`; login is always on."""
    home = data_dir()
    open_app_database(home)
    store = UserStore(home)
    first_user = not store.has_users()
    if first_user and args.host not in LOOPBACK:
        raise UserError(
            f"refusing to listen on {args.host} with no users: add one first with "
            "smart-inbox users add NAME"
        )
    _check_chat_port(args.host, args.port)
    if first_user:
        alphabet = string.ascii_letters + string.digits
        password = "".join(secrets.choice(alphabet) for _ in range(16))
        store.add("demo", password)
        print(f"No users yet: created user 'demo' with password {password}", file=sys.stderr)
        print("(change it with: smart-inbox users add demo)", file=sys.stderr)
    secret_file = home / "chainlit-secret"
    if not secret_file.exists():
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    env = dict(os.environ)
    env.setdefault("CHAINLIT_AUTH_SECRET", secret_file.read_text().strip())
    env["CHAINLIT_APP_ROOT"] = str(APP_ROOT)
    env["SMART_INBOX_HOME"] = str(home)
    env.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")
    print(f"Smart Inbox chat on http://{args.host}:{args.port}", file=sys.stderr)
    command = [sys.executable, "-m", "chainlit", "run", str(APP_ROOT / "app.py"), "--headless"]
    command += ["--host", args.host, "--port", str(args.port)]
    os.execvpe(sys.executable, command, env)
    return 0  # not reached: the process is now the chat server


def _check_chat_port(host: str, port: int) -> None:
    """Refuse a port that cannot be bound now, before anything announces the chat there.

    Chainlit would fail on it only after the `chat on` line, and exit 0.
    """
    try:
        check_port(host, port)
    except ServerError as err:
        raise UserError(str(err)) from err
