"""`smart-inbox accounts` end to end, each call in its own process, against a local OAuth server:
the device code flow, listing without tokens, removal that revokes, an IMAP login."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from memory.keys import key_path
from tests.fakes.oauth_server import FakeOAuth, oauth_error
from tests.integration.cli_runner import ROOT, cli_env, run_cli
from tests.integration.test_no_plaintext_secrets import forms

pytestmark = pytest.mark.integration


@pytest.fixture
def oauth() -> Iterator[FakeOAuth]:
    with FakeOAuth(address="dana@northwind.example") as server:
        yield server  # type: ignore[misc]


def oauth_env(server: FakeOAuth, provider: str = "microsoft") -> dict[str, str]:
    return {
        **server.endpoints(provider),
        f"SMART_INBOX_OAUTH_{provider.upper()}_CLIENT_ID": server.client_id,
    }


USE_TOKENS = """
import logging, sys
logging.basicConfig(level=logging.DEBUG, filename=sys.argv[1])
logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
from tools.oauth.accounts import VaultTokens
tokens = VaultTokens.open("work")
first = tokens.access_token()
assert tokens.refreshed() != first
print("refreshed")
"""


def assert_nowhere(tokens: list[str], home: Path, printed: bytes) -> None:
    """No token, in any encoding, in what was printed or in any file of the data directory."""
    files = {path: path.read_bytes() for path in home.rglob("*") if path.is_file()}
    files.pop(key_path(home), None)
    assert len(tokens) >= 3 and any(path.name == "debug.log" for path in files)
    for token in tokens:
        for form, needle in forms(token).items():
            assert needle not in printed, form
            for path, content in files.items():
                assert needle not in content, f"{form} in {path.name}"


def approve_when_shown(process: subprocess.Popen[str], server: FakeOAuth, lines: list[str]) -> None:
    """Read the command's output; approve the code it shows, as the user would elsewhere."""
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if "enter the code" in line:
            server.approve_device(line.rsplit(" ", 1)[-1].strip())


def add_by_device(
    home: Path, env: dict[str, str], server: FakeOAuth, *args: str, timeout: float = 60
) -> list[str]:
    """`smart-inbox accounts add ARGS --device`, its code approved as the user would elsewhere;
    the lines it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "accounts", "add", *args, "--device"],
        cwd=ROOT,
        env=cli_env(home, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=approve_when_shown, args=(process, server, lines))
    reader.start()
    assert process.wait(timeout=timeout) == 0, process.stderr.read() if process.stderr else ""
    reader.join(timeout=5)
    return lines


def test_device_flow_list_and_remove(tmp_path: Path, oauth: FakeOAuth) -> None:
    env = oauth_env(oauth)
    lines = add_by_device(tmp_path, env, oauth, "microsoft", "work", timeout=30)
    assert f"open {oauth.base_url}/device/verify and enter the code" in lines[0]
    assert lines[-1].strip() == "connected microsoft account work (dana@northwind.example)"
    [refresh] = oauth.refresh

    listed = run_cli(tmp_path, "accounts", "list", "--json", env=env)
    [row] = json.loads(listed.stdout)
    assert row["name"] == "work" and row["kind"] == "microsoft"
    assert row["address"] == "dana@northwind.example" and row["state"] == "connected"
    assert row["expires_at"] and row["scopes"] == ["mail"]

    # A process that uses and refreshes the grant, logging everything at DEBUG.
    used = subprocess.run(
        [sys.executable, "-c", USE_TOKENS, str(tmp_path / "debug.log")],
        cwd=ROOT,
        env=cli_env(tmp_path, env),
        capture_output=True,
        text=True,
        check=True,
    )
    assert used.stdout.strip() == "refreshed"
    printed = "".join(lines) + listed.stdout + listed.stderr + used.stdout + used.stderr
    assert_nowhere([refresh, *oauth.access], tmp_path, printed.encode())

    removed = run_cli(tmp_path, "accounts", "remove", "work", env=env)
    assert removed.stdout.strip().startswith("removed account work")
    assert refresh in oauth.revoked
    assert "no accounts" in run_cli(tmp_path, "accounts", "list", env=env).stdout


def test_device_code_that_expires(tmp_path: Path, oauth: FakeOAuth) -> None:
    oauth.script(
        *[oauth_error("authorization_pending"), oauth_error("expired_token")], path="/token"
    )
    result = run_cli(
        tmp_path,
        "accounts",
        "add",
        "microsoft",
        "work",
        "--device",
        check=False,
        env=oauth_env(oauth),
    )
    assert result.returncode == 2
    assert result.stderr.strip().endswith("the code expired before it was entered; try again")
    assert "no accounts" in run_cli(tmp_path, "accounts", "list", env=oauth_env(oauth)).stdout


def test_missing_client_id_says_what_to_store(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "accounts", "add", "gmail", "work", "--no-browser", check=False)
    assert result.returncode == 2
    assert "smart-inbox credentials set oauth.client_id:google" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("salesforce", "--imap is for gmail and microsoft accounts, not Salesforce"),
        ("imap", "an imap account is a password login"),
    ],
)
def test_imap_access_is_refused_where_a_grant_cannot_give_it(
    tmp_path: Path, kind: str, said: str
) -> None:
    result = run_cli(tmp_path, "accounts", "add", kind, "work", "--imap", check=False)
    assert result.returncode == 2
    assert said in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_imap_login_account(tmp_path: Path) -> None:
    added = run_cli(
        tmp_path,
        "accounts",
        "add",
        "imap",
        "home",
        "--login",
        "dana@imap.northwind.example",
        "--password-stdin",
        stdin="imap-secret-Zq81\n",
    )
    assert "stored imap account home" in added.stdout
    names = run_cli(tmp_path, "credentials", "list").stdout
    assert "imap.password:dana@imap.northwind.example" in names
    listed = run_cli(tmp_path, "accounts", "list").stdout
    assert "home  imap  dana@imap.northwind.example  password" in listed
    assert "imap-secret-Zq81" not in listed
    assert "removed account home" in run_cli(tmp_path, "accounts", "remove", "home").stdout
    assert "imap.password" not in run_cli(tmp_path, "credentials", "list").stdout


def test_health_watches_a_connected_accounts_grant(tmp_path: Path) -> None:
    with FakeOAuth(address="dana@northwind.example", access_ttl=30) as oauth:
        env = oauth_env(oauth)
        process = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "accounts", "add", "microsoft", "work", "--device"],
            cwd=ROOT,
            env=cli_env(tmp_path, env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        reader = threading.Thread(target=approve_when_shown, args=(process, oauth, []))
        reader.start()
        assert process.wait(timeout=30) == 0
        reader.join(timeout=5)
        issued = len(oauth.access)

        healthy = run_cli(tmp_path, "health", "--json", env=env, demo=True)
        account = {p["part"]: p for p in json.loads(healthy.stdout)["parts"]}["account work"]
        assert account["state"] == "ok", account
        assert len(oauth.access) == issued + 1, "a token about to expire was refreshed"

        oauth.revoke_everything()  # the user removed the app's access at Microsoft
        broken = run_cli(tmp_path, "health", "--json", env=env, check=False, demo=True)
        assert broken.returncode == 1
        account = {p["part"]: p for p in json.loads(broken.stdout)["parts"]}["account work"]
        assert account["state"] == "down"
        assert "smart-inbox accounts add microsoft work" in account["reason"]
        printed = healthy.stdout + healthy.stderr + broken.stdout + broken.stderr
        assert oauth.revoked and not any(token in printed for token in oauth.revoked)
