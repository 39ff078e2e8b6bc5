"""The schema comes only from migrations; SQLite is set up for concurrent requests."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from tests.conftest import TEST_SECRET, environ_for_tests
from traded_app import MIGRATIONS_DIR, ConfigError, create_app
from traded_app.extensions import db
from traded_app.models import CouncilSettings, Partnership, Quadrant


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head() or ""


def test_migrated_database_is_at_head_and_matches_the_models(app: Any) -> None:
    """Runs on SQLite and, in CI, on PostgreSQL: the suite's database was built by upgrading an
    empty database to head, so this also proves the upgrade works on that backend."""
    with db.engine.connect() as connection:
        assert (
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            == head_revision()
        )
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata
        )
    assert diff == []


def sqlite_app(tmp_path: Path, **extra: str) -> Any:
    return create_app(environ_for_tests(tmp_path, f"sqlite:///{tmp_path / 'own.db'}", **extra))


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    app = sqlite_app(tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_concurrent_read_then_write_transactions_never_see_database_is_locked(
    tmp_path: Path,
) -> None:
    """Each worker reads, then writes, in one transaction, as a request handler does. Without
    BEGIN IMMEDIATE two such transactions deadlock and SQLite answers "database is locked"."""
    app = sqlite_app(tmp_path)
    with app.app_context():
        upgrade()
        db.session.add(Quadrant(code="Q", name="Quadrant"))
        db.session.commit()
        quadrant_id = db.session.execute(select(Quadrant.id)).scalar_one()

    errors: list[BaseException] = []
    workers, rounds = 6, 15

    def work(worker: int) -> None:
        try:
            for n in range(rounds):
                with app.app_context():
                    count = db.session.execute(
                        select(func.count()).select_from(Partnership)
                    ).scalar_one()
                    db.session.add(
                        Partnership(name=f"p{worker}-{n}-{count}", quadrant_id=quadrant_id)
                    )
                    db.session.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with app.app_context():
        assert (
            db.session.execute(select(func.count()).select_from(Partnership)).scalar_one()
            == workers * rounds
        )


def test_production_refuses_to_start_on_the_demo_data(tmp_path: Path) -> None:
    app = sqlite_app(tmp_path)
    with app.app_context():
        upgrade()
        db.session.add(CouncilSettings(id=1, name="Demo council", demo_data=True))
        db.session.commit()
    with pytest.raises(ConfigError, match="demo data"):
        sqlite_app(tmp_path, APP_ENV="production", SECRET_KEY=TEST_SECRET)
