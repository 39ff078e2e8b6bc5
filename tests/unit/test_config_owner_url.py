"""DATABASE_OWNER_URL: migrations run as the tables' owner on PostgreSQL (issue 12 part 7)."""

from __future__ import annotations

import pytest

from traded_app.config import ConfigError, load_settings

APP = "postgresql://traded_app:app@db/traded"
OWNER = "postgres://traded_owner:owner@db/traded"


def test_the_owner_url_is_parsed_like_database_url_and_handed_to_flask() -> None:
    settings = load_settings({"DATABASE_URL": APP, "DATABASE_OWNER_URL": OWNER})
    assert settings.database_owner_url is not None
    assert settings.database_owner_url.drivername == "postgresql+psycopg"
    assert settings.database_owner_url.username == "traded_owner"
    assert settings.as_flask_config()["DATABASE_OWNER_URL"] == (
        "postgresql+psycopg://traded_owner:owner@db/traded"
    )


def test_without_an_owner_url_migrations_use_database_url() -> None:
    settings = load_settings({"DATABASE_URL": APP})
    assert settings.database_owner_url is None
    assert settings.as_flask_config()["DATABASE_OWNER_URL"] == ""


@pytest.mark.parametrize(
    ("database_url", "owner_url", "message"),
    [
        ("sqlite:///instance/traded.db", OWNER, "DATABASE_OWNER_URL is for PostgreSQL"),
        (APP, "sqlite:///instance/traded.db", "DATABASE_OWNER_URL is for PostgreSQL"),
        (APP, "not a url", "DATABASE_OWNER_URL is not a database URL"),
        (APP, "postgresql://u:p@db", "DATABASE_OWNER_URL must name the PostgreSQL database"),
    ],
)
def test_a_wrong_owner_url_is_explained(database_url: str, owner_url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"DATABASE_URL": database_url, "DATABASE_OWNER_URL": owner_url})
