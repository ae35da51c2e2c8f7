"""`DATABASE_URL`: the SQLite default, an explicit SQLite file, PostgreSQL, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory.database_url import DatabaseConfigError, database_config, safe_url, sqlalchemy_url


def test_without_a_url_both_stores_are_files_in_the_data_directory(tmp_path: Path) -> None:
    config = database_config(tmp_path, {})
    assert config.kind == "sqlite" and not config.is_postgres
    assert config.app_url == f"sqlite:///{tmp_path / 'app.db'}"
    assert config.chat_url == f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    assert config.checkpoint_file == tmp_path / "checkpoints.db"
    assert config.checkpoint_conninfo is None


def test_a_sqlite_url_moves_both_files(tmp_path: Path) -> None:
    config = database_config(tmp_path, {"DATABASE_URL": f"sqlite:///{tmp_path}/shared/inbox.db"})
    assert config.app_url == f"sqlite:///{tmp_path}/shared/inbox.db"
    assert config.checkpoint_file == tmp_path / "shared" / "checkpoints.db"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_postgresql_urls_map_to_psycopg_3(tmp_path: Path, scheme: str) -> None:
    url = f"{scheme}://inbox:s%40cret@db.example:5433/inbox?sslmode=require"
    config = database_config(tmp_path, {"DATABASE_URL": url})
    assert config.is_postgres
    assert (
        config.app_url
        == "postgresql+psycopg://inbox:s%40cret@db.example:5433/inbox?sslmode=require"
    )
    assert config.chat_url == config.app_url
    assert config.checkpoint_conninfo == (
        "postgresql://inbox:s%40cret@db.example:5433/inbox?sslmode=require"
    )
    assert config.checkpoint_file is None
    assert "s%40cret" not in config.describe() and "***" in config.describe()


def test_sqlalchemy_url_leaves_other_urls_alone() -> None:
    assert sqlalchemy_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert sqlalchemy_url("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:topsecret@h/d", "must start with sqlite:/// or postgresql://"),
        ("postgresql://u:topsecret@h:5432", "names no database"),
        ("postgresql+asyncpg://u:topsecret@h/d", "must start with"),
        ("sqlite://", "sqlite:///PATH"),
        ("sqlite:///:memory:", "in-memory"),
        ("just-a-word", "must start with"),
    ],
)
def test_unusable_urls_are_refused_without_showing_the_password(
    tmp_path: Path, url: str, message: str
) -> None:
    with pytest.raises(DatabaseConfigError, match=message) as caught:
        database_config(tmp_path, {"DATABASE_URL": url})
    assert "topsecret" not in str(caught.value)


def test_safe_url_masks_the_password() -> None:
    assert safe_url("postgresql+psycopg://u:pw@h/d") == "postgresql+psycopg://u:***@h/d"
