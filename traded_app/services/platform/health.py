"""Whether the app can reach its database, for the load balancers' health check."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from traded_app.extensions import db


def database_reachable() -> bool:
    """Run `SELECT 1`; False when the database cannot answer (the failed session is rolled back,
    so the request can still finish cleanly)."""
    try:
        db.session.execute(text("SELECT 1")).scalar_one()
    except SQLAlchemyError:
        db.session.rollback()
        return False
    return True
