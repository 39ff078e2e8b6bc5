"""Configuration: clear messages for bad settings, and production refuses unsafe ones."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from traded_app.config import DEV_SECRET_KEY, PROJECT_ROOT, ConfigError, load_settings

GOOD_SECRET = "s" * 48


def test_development_defaults_to_sqlite_in_instance() -> None:
    settings = load_settings({})
    assert settings.app_env == "development"
    assert settings.database_url.get_backend_name() == "sqlite"
    assert settings.database_url.database == str(PROJECT_ROOT / "instance" / "traded.db")
    assert settings.invoice_dir == PROJECT_ROOT / "invoices"
    assert settings.port == 5000


def test_postgres_urls_use_psycopg3() -> None:
    for raw in ("postgres://u:p@db/traded", "postgresql://u:p@db/traded"):
        url = load_settings({"DATABASE_URL": raw}).database_url
        assert url.drivername == "postgresql+psycopg"
        assert url.database == "traded"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not a url", "DATABASE_URL is not a database URL"),
        ("mysql://u:p@db/x", "supports only sqlite and postgresql"),
        ("postgresql://u:p@db", "must name the PostgreSQL database"),
    ],
)
def test_malformed_database_url_is_explained(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"DATABASE_URL": raw})


def test_sqlite_file_in_a_missing_folder_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({"DATABASE_URL": f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}"})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({"DATABASE_URL": "sqlite:///instnace/traded.db"})
    # instance/ is created by the app itself, so it need not exist yet.
    assert load_settings({"DATABASE_URL": "sqlite:///instance/other.db"}).database_url.database


def test_unknown_environment_and_bad_numbers_are_explained() -> None:
    with pytest.raises(ConfigError, match="APP_ENV must be one of"):
        load_settings({"APP_ENV": "staging"})
    with pytest.raises(ConfigError, match="PORT must be a whole number"):
        load_settings({"PORT": "fifty"})


@pytest.mark.parametrize("secret", ["", DEV_SECRET_KEY, "too-short"])
def test_production_refuses_a_default_or_weak_secret(secret: str) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(
            {"APP_ENV": "production", "SECRET_KEY": secret, "DATABASE_URL": "postgresql://u@h/d"}
        )


def test_production_with_a_strong_secret_is_accepted_and_secures_cookies() -> None:
    settings = load_settings(
        {"APP_ENV": "production", "SECRET_KEY": GOOD_SECRET, "DATABASE_URL": "postgresql://u@h/d"}
    )
    config = settings.as_flask_config()
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_starting_with_a_bad_setting_prints_one_clear_line(tmp_path: Path) -> None:
    """`flask --app wsgi …` (and gunicorn) with a broken DATABASE_URL: a sentence, no traceback."""
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "nonsense", "APP_ENV": "development"}
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,  # a guard against a hang, not a timing: a busy CI machine is slow to import
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Configuration error: DATABASE_URL is not a database URL")
    assert "Traceback" not in result.stderr
