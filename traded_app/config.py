"""Settings from the environment (and a `.env` file when present).

Every setting is listed in the README's configuration table. Production refuses to start with
unsafe defaults rather than run insecurely.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"
ENVIRONMENTS = ("development", "test", "production")


class ConfigError(Exception):
    """A setting is missing or unsafe; the message says which and what to do."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None


def _path(env: dict[str, str], name: str, default: str) -> Path:
    path = Path(env.get(name, "").strip() or default)
    return path if path.is_absolute() else PROJECT_ROOT / path


def parse_database_url(raw: str, name: str = "DATABASE_URL") -> URL:
    """Parse DATABASE_URL (or the setting `name`), accepting the usual `postgres://` spellings,
    or say what is wrong."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            f"{name} is not a database URL. Use for example "
            "sqlite:///instance/traded.db or postgresql://user:password@host:5432/dbname."
        ) from None
    backend = url.get_backend_name()
    if backend in {"postgres", "postgresql"}:
        # psycopg 3 is the driver we ship; `postgres://` is what many hosts hand out.
        url = url.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise ConfigError(f"{name} uses {backend!r}; this app supports only sqlite and postgresql.")
    if backend == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if not path.is_absolute():
            path = PROJECT_ROOT / path
            url = url.set(database=str(path))
        # The app creates instance/ itself; any other folder must exist (a typo otherwise ends
        # in SQLite's bare "unable to open database file").
        if path.parent != PROJECT_ROOT / "instance" and not path.parent.is_dir():
            raise ConfigError(
                f"{name} points at an SQLite file in {path.parent}, which does not exist. "
                "Create the folder or correct the path."
            )
    if url.get_backend_name() == "postgresql" and not url.database:
        raise ConfigError(f"{name} must name the PostgreSQL database (…/dbname).")
    return url


def parse_owner_url(raw: str, database_url: URL) -> URL | None:
    """DATABASE_OWNER_URL: on PostgreSQL, the role that owns the tables, which migrations run as
    (the app's own role, DATABASE_URL's, then cannot drop or disable the triggers that keep
    issued documents unchanged). Unset: migrations run as DATABASE_URL's role."""
    if not raw:
        return None
    url = parse_database_url(raw, "DATABASE_OWNER_URL")
    if url.get_backend_name() != "postgresql" or database_url.get_backend_name() != "postgresql":
        raise ConfigError(
            "DATABASE_OWNER_URL is for PostgreSQL, with DATABASE_URL on PostgreSQL too "
            "(SQLite has no roles): unset it."
        )
    return url


@dataclass
class Settings:
    """The resolved configuration; `as_flask_config` turns it into Flask's keys."""

    app_env: str
    secret_key: str
    database_url: URL
    database_owner_url: URL | None
    invoice_dir: Path
    port: int
    session_idle_minutes: int
    session_max_hours: int
    mail_server: str
    mail_port: int
    mail_username: str
    mail_password: str
    mail_use_tls: bool
    mail_sender: str
    mail_outbox_dir: Path
    ratelimit_storage_uri: str
    trusted_proxies: int
    redis_url: str = ""
    queue_file: Path = PROJECT_ROOT / "instance" / "queue.db"
    queue_immediate: bool = False
    queue_max_wait_seconds: int = 600
    export_dir: Path = PROJECT_ROOT / "instance" / "exports"
    backup_dir: Path = PROJECT_ROOT / "instance" / "backups"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    def as_flask_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "APP_ENV": self.app_env,
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url.render_as_string(hide_password=False),
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
            "DATABASE_OWNER_URL": (
                self.database_owner_url.render_as_string(hide_password=False)
                if self.database_owner_url is not None
                else ""
            ),
            "INVOICE_DIR": str(self.invoice_dir),
            "PORT": self.port,
            "SESSION_IDLE_MINUTES": self.session_idle_minutes,
            "PERMANENT_SESSION_LIFETIME": timedelta(hours=self.session_max_hours),
            "SESSION_COOKIE_NAME": "traded_session",
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            # The cookie is sent again only when the session changed (web.py re-signs the
            # last-seen time once a minute), not on every request.
            "SESSION_REFRESH_EACH_REQUEST": False,
            "SESSION_COOKIE_SECURE": self.is_production,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SECURE": self.is_production,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead, which expires itself
            "WTF_CSRF_HEADERS": ["X-CSRFToken"],
            "MAIL_SERVER": self.mail_server,
            "MAIL_PORT": self.mail_port,
            "MAIL_USERNAME": self.mail_username,
            "MAIL_PASSWORD": self.mail_password,
            "MAIL_USE_TLS": self.mail_use_tls,
            "MAIL_SENDER": self.mail_sender,
            "MAIL_OUTBOX_DIR": str(self.mail_outbox_dir),
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage_uri,
            "RATELIMIT_HEADERS_ENABLED": True,
            "TRUSTED_PROXIES": self.trusted_proxies,
            "REDIS_URL": self.redis_url,
            "QUEUE_FILE": str(self.queue_file),
            "QUEUE_IMMEDIATE": self.queue_immediate,
            "QUEUE_MAX_WAIT_SECONDS": self.queue_max_wait_seconds,
            "EXPORT_DIR": str(self.export_dir),
            "BACKUP_DIR": str(self.backup_dir),
            "TESTING": self.app_env == "test",
        }
        config.update(self.extra)
        return config


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read settings from `environ` (default: the process environment) and check them."""
    env = dict(os.environ if environ is None else environ)
    app_env = env.get("APP_ENV", "development").strip().lower() or "development"
    if app_env not in ENVIRONMENTS:
        raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {app_env!r}.")

    secret_key = env.get("SECRET_KEY", "").strip() or DEV_SECRET_KEY
    default_db = "sqlite:///instance/traded.db"
    database_url = parse_database_url(env.get("DATABASE_URL", "").strip() or default_db)

    invoice_dir = Path(env.get("INVOICE_DIR", "").strip() or "invoices")
    if not invoice_dir.is_absolute():
        invoice_dir = PROJECT_ROOT / invoice_dir
    outbox = Path(env.get("MAIL_OUTBOX_DIR", "").strip() or "instance/outbox")
    if not outbox.is_absolute():
        outbox = PROJECT_ROOT / outbox

    redis_url = env.get("REDIS_URL", "").strip()
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            f"REDIS_URL must start with redis://, rediss:// or unix://, not {redis_url!r}."
        )
    queue_file = Path(env.get("QUEUE_FILE", "").strip() or "instance/queue.db")
    if not queue_file.is_absolute():
        queue_file = PROJECT_ROOT / queue_file

    settings = Settings(
        app_env=app_env,
        secret_key=secret_key,
        database_url=database_url,
        database_owner_url=parse_owner_url(env.get("DATABASE_OWNER_URL", "").strip(), database_url),
        invoice_dir=invoice_dir,
        port=_int(env, "PORT", 5000),
        session_idle_minutes=_int(env, "SESSION_IDLE_MINUTES", 60),
        session_max_hours=_int(env, "SESSION_MAX_HOURS", 12),
        mail_server=env.get("MAIL_SERVER", "").strip(),
        mail_port=_int(env, "MAIL_PORT", 587),
        mail_username=env.get("MAIL_USERNAME", "").strip(),
        mail_password=env.get("MAIL_PASSWORD", ""),
        mail_use_tls=_bool(env.get("MAIL_USE_TLS"), default=True),
        mail_sender=env.get("MAIL_SENDER", "").strip() or "traded-services@example.org",
        mail_outbox_dir=outbox,
        # With Redis, sign-in limits are shared by every worker and host; without, per process.
        ratelimit_storage_uri=env.get("RATELIMIT_STORAGE_URI", "").strip()
        or redis_url
        or "memory://",
        trusted_proxies=_int(env, "TRUSTED_PROXIES", 0),
        redis_url=redis_url,
        queue_file=queue_file,
        # Tests run each job at once, in its own unit of work; elsewhere a worker runs them.
        queue_immediate=_bool(env.get("QUEUE_IMMEDIATE"), default=app_env == "test"),
        queue_max_wait_seconds=_int(env, "QUEUE_MAX_WAIT_SECONDS", 600),
        export_dir=_path(env, "EXPORT_DIR", "instance/exports"),
        backup_dir=_path(env, "BACKUP_DIR", "instance/backups"),
        extra=_stripe_settings(env),
    )
    if settings.is_production:
        check_production(settings)
    return settings


def _stripe_settings(env: dict[str, str]) -> dict[str, Any]:
    """Card payments: keys set here override the council settings' (for deployments that keep
    secrets in the environment); APP_BASE_URL makes the PDF's "Pay by card" link; STRIPE_API_BASE
    points the Stripe library elsewhere (tests' fake Stripe only)."""
    base_url = env.get("APP_BASE_URL", "").strip().rstrip("/")
    if base_url and not base_url.startswith(("https://", "http://")):
        raise ConfigError(f"APP_BASE_URL must start with https://, not {base_url!r}.")
    return {
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY", "").strip(),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET", "").strip(),
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE", "").strip(),
        "STRIPE_WEBHOOK_TOLERANCE": _int(env, "STRIPE_WEBHOOK_TOLERANCE", 300),
        "APP_BASE_URL": base_url,
    }


def check_production(settings: Settings) -> None:
    """Refuse settings that are fine on a laptop and dangerous on a server."""
    if settings.secret_key == DEV_SECRET_KEY or len(settings.secret_key) < 32:
        raise ConfigError(
            "In production SECRET_KEY must be set to a random value of at least 32 characters "
            '(for example: python -c "import secrets; print(secrets.token_urlsafe(48))").'
        )
    if settings.database_url.get_backend_name() == "sqlite" and settings.database_url.database in (
        None,
        "",
        ":memory:",
    ):
        raise ConfigError("In production DATABASE_URL must point at a database that persists.")
