"""Alembic environment: runs against the app's own engine (Flask-Migrate), or, when
DATABASE_OWNER_URL is set (PostgreSQL), as the tables' owner, then grants the app's role
(DATABASE_URL's) its rows-only privileges (traded_app.database.grant_app_role)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from traded_app.database import grant_app_role

config = context.config
if config.config_file_name is not None and not current_app.testing:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
owner_url = current_app.config.get("DATABASE_OWNER_URL") or ""
engine = create_engine(owner_url, poolclass=NullPool) if owner_url else target_db.engine
config.set_main_option(
    "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def connect(engine: Engine, setting: str) -> Connection:
    try:
        return engine.connect()
    except OperationalError as error:
        where = engine.url.render_as_string(hide_password=True)
        raise SystemExit(
            f"Could not connect to the database {where}: {str(error.orig).strip()}. "
            f"Check {setting} and that the database server is running."
        ) from None


def app_role() -> str:
    """The role the app connects as (asked, not read from the URL: peer logins name none)."""
    with connect(target_db.engine, "DATABASE_URL") as connection:
        return str(connection.execute(text("SELECT current_user")).scalar_one())


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def process_revision_directives(context, revision, directives):  # type: ignore[no-untyped-def]
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    conf_args.setdefault("process_revision_directives", process_revision_directives)

    grantee = app_role() if owner_url else None
    connection = connect(engine, "DATABASE_OWNER_URL" if owner_url else "DATABASE_URL")
    with connection:
        context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()
            if grantee is not None:
                grant_app_role(connection, grantee)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
