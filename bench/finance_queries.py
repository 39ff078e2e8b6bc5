"""How many queries each finance page costs on a database as it stands (issue 12, part 3: the
same at 10, 10,000 and 100,000 documents), counted in one process with the app's test client.

bench/finance_pages.py runs it on its scratch database at 10,000 documents and again after
topping it up to 100,000; tests/integration/test_finance_query_counts.py holds the counts equal
at 10 and 1,000 documents. Each page is asked for once to warm up (the session's user, the
council's settings, the statements built once per process), then counted.

    .venv/bin/python bench/finance_queries.py DATABASE_URL      # prints one line per page
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select  # noqa: E402 - after the path is set

from traded_app import create_app  # noqa: E402
from traded_app.extensions import db  # noqa: E402
from traded_app.models import Document, School, User  # noqa: E402

ACCOUNT = "finance@example.org"
SKIPPED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def pages(busiest_urn: int) -> list[tuple[str, str]]:
    """(name, path) of the pages counted; `busiest_urn` is the school with most documents."""
    return [
        ("register", "/finance/invoices"),
        ("register, overdue by balance", "/finance/invoices?status=overdue&sort=balance"),
        ("register, page 20", "/finance/invoices?page=20"),
        ("aged debt", "/finance/aged-debt"),
        ("aged debt, page 3 of overdue", "/finance/aged-debt?page=3"),
        ("statements", "/finance/statements"),
        ("a school's statement", f"/finance/schools/{busiest_urn}/statement"),
    ]


def count(database_url: str) -> dict[str, object]:
    """Each page's query count, the documents in the database and the busiest school's."""
    os.environ.update(
        {
            "APP_ENV": "development",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench-secret-" + "x" * 32,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    app = create_app()
    with app.app_context():
        user_id = db.session.execute(select(User).where(User.email == ACCOUNT)).scalar_one()
        user_id = user_id.get_id()
        documents = db.session.execute(select(func.count()).select_from(Document)).scalar_one()
        urn, of_school = db.session.execute(
            select(School.urn, func.count())
            .join(Document, Document.school_id == School.id)
            .group_by(School.urn)
            .order_by(func.count().desc(), School.urn)
            .limit(1)
        ).one()
        engine = db.engine
    client = app.test_client()
    now = int(time.time())
    with client.session_transaction() as session:
        session.update(_user_id=user_id, _fresh=True, signed_in_at=now, last_seen=now)
    statements: list[str] = []

    def before(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.lstrip().upper().startswith(SKIPPED):
            statements.append(statement)

    counts: dict[str, int] = {}
    event.listen(engine, "before_cursor_execute", before)
    try:
        for name, path in pages(int(urn)):
            if client.get(path).status_code != 200:
                raise SystemExit(f"GET {path} did not answer 200")
            statements.clear()
            client.get(path)
            counts[name] = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return {
        "documents": int(documents),
        "school_urn": int(urn),
        "school_documents": int(of_school),
        "queries": counts,
    }


def count_in_subprocess(database_url: str) -> dict[str, object]:
    """`count` in a process of its own (the app is configured from the environment)."""
    done = subprocess.run(
        [sys.executable, __file__, database_url, "--json"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def describe(result: dict[str, object]) -> str:
    queries = result["queries"]
    assert isinstance(queries, dict)
    shown = "; ".join(f"{name} {n}" for name, n in queries.items())
    return (
        f"queries per page at {result['documents']:,} documents "
        f"(the statement's school has {result['school_documents']:,}): {shown}"
    )


def main() -> int:
    result = count(sys.argv[1])
    print(json.dumps(result) if "--json" in sys.argv else describe(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
