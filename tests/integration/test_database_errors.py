"""Bad database settings and a dead database server: one line each, no password, nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli_runner import run_cli
from tests.postgres_server import free_port

pytestmark = pytest.mark.integration

PASSWORD = "hunter2-not-for-logs"


def test_a_dead_postgresql_server_is_one_clear_line(tmp_path: Path) -> None:
    url = f"postgresql://inbox:{PASSWORD}@127.0.0.1:{free_port()}/inbox"
    for args in (("ask", "any invoices?", "--thread", "t1"), ("audit",)):
        done = run_cli(tmp_path, *args, env={"DATABASE_URL": url}, check=False)
        assert done.returncode == 1, done.stderr
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("smart-inbox: cannot open the ")
        assert "127.0.0.1" in line and "***" in line
        assert PASSWORD not in done.stderr + done.stdout
    assert not (tmp_path / "app.db").exists(), "no silent fallback to the SQLite file"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DATABASE_URL": f"mysql://u:{PASSWORD}@h/d"},
            "must start with sqlite:/// or postgresql://",
        ),
        ({"DATABASE_URL": f"postgresql://u:{PASSWORD}@127.0.0.1"}, "names no database"),
        ({"SMART_INBOX_ENCRYPT_STATE": "sometimes"}, "SMART_INBOX_ENCRYPT_STATE must be 1 or 0"),
    ],
)
def test_bad_settings_are_user_errors(tmp_path: Path, env: dict[str, str], message: str) -> None:
    done = run_cli(tmp_path, "ask", "any invoices?", env=env, check=False)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert message in line
    assert PASSWORD not in done.stderr


def test_a_sqlite_url_moves_both_files(tmp_path: Path) -> None:
    shared = tmp_path / "shared" / "inbox.db"
    env = {"DATABASE_URL": f"sqlite:///{shared}"}
    run_cli(tmp_path, "ask", "any invoices?", "--thread", "t1", env=env)
    assert shared.exists() and (shared.parent / "checkpoints.db").exists()
    assert not (tmp_path / "app.db").exists() and not (tmp_path / "checkpoints.db").exists()
    history = run_cli(tmp_path, "history", "--thread", "t1", env=env)
    assert "any invoices?" in history.stdout
