"""The job queue's worker process.

    huey_consumer traded_app.worker.huey --workers 2 --worker-type process --max-delay 1

builds the app from the environment (the same settings as the web app), binds it to the queue so
each job runs in its own app context, and refuses to start, with a clear message, when the queue's
store (REDIS_URL or QUEUE_FILE) cannot be reached.
"""

from __future__ import annotations

from traded_app import create_app
from traded_app.extensions import db
from traded_app.services.platform import jobs

app = create_app()
jobs.bind_app(app)
jobs.check_reachable()
huey = jobs.huey


@huey.on_startup()
def _own_connections() -> None:
    """A forked worker process opens its own database connections, never its parent's."""
    with app.app_context():
        db.engine.dispose(close=False)
