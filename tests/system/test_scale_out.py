"""Proof on more than one machine, as far as one box can show it (issue 13, part 6).

Two app instances (gunicorn on two ports, two workers each) and two queue workers
(huey_consumer) share one PostgreSQL database and one Redis, as two web hosts and two worker
hosts would. Over HTTP, signed in as the service manager and finance: each order is confirmed on
both instances at the same moment; two invoice runs are asked for at once, one on each instance,
while more orders are confirmed; wrong passwords for one account arrive at both. Then every
confirmed order is charged exactly once, each number series has no gap, every e-mail is in the
outbox exactly once, and the sign-in limit counted both instances' attempts together.

Runs when TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL are both set (.ci/run sets them; the
Makefile runs it once, after the suite). It wipes that database's schema and that Redis: point
them at ones kept for tests.
"""

from __future__ import annotations

import email
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import IO, Any

import pytest
import redis
import requests
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import create_engine, func, select, text

from tests.conftest import TEST_SECRET, environ_for_tests
from tests.factories import PASSWORD, World, build_world, make_user, submitted_order
from traded_app import create_app
from traded_app.config import parse_database_url
from traded_app.extensions import db
from traded_app.models import Document, InvoiceRun, InvoiceRunStatus, Order, OrderStatus, User
from traded_app.models.jobs import EmailStatus, OutgoingEmail
from traded_app.models.types import Role
from traded_app.services.platform import jobs

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
# Where the tables' owner connects, when the app's role owns nothing (else the same role).
OWNER_URL = os.environ.get("TEST_DATABASE_OWNER_URL", "")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "")

pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(
        not (DATABASE_URL.startswith("postgres") and REDIS_URL),
        reason="needs PostgreSQL and Redis: TEST_DATABASE_URL (postgresql://…) and "
        "TEST_REDIS_URL (.ci/run sets both)",
    ),
]

WAIT_SECONDS = 90  # for anything to happen; the whole test takes well under two minutes
CONFIRMED = {OrderStatus.CONFIRMED}


def free_ports(count: int) -> list[int]:
    probes = [socket.socket() for _ in range(count)]
    for probe in probes:  # all bound at once, so no two are the same
        probe.bind(("127.0.0.1", 0))
    ports = [int(probe.getsockname()[1]) for probe in probes]
    for probe in probes:
        probe.close()
    return ports


def wait_for(what: str, check: Callable[[], bool], cluster: Cluster | None = None) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(
        f"waited {WAIT_SECONDS} s for {what}" + (cluster.logs() if cluster else "")
    )


# --- The cluster: two web instances, two queue workers ----------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def signal(self, number: int) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, number)  # its own session: gunicorn's workers too

    def wait(self) -> None:
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait(timeout=20)


@dataclass
class Cluster:
    web: list[str]  # the instances' base URLs
    processes: list[Process]
    outbox: Path

    def wait_until_answering(self) -> None:
        def answering() -> bool:
            for base in self.web:
                try:
                    if requests.get(f"{base}/healthz", timeout=10).status_code != 200:
                        return False
                except requests.RequestException:  # not listening yet, or still booting
                    return False
            return True

        wait_for("both instances to answer /healthz", answering, self)

    def logs(self) -> str:
        """The tail of every process's output, for a failure's message."""
        parts = []
        for process in self.processes:
            tail = process.log.read_text(errors="replace").splitlines()[-25:]
            parts.append(
                f"\n--- {process.name} (exit {process.popen.poll()}) ---\n" + "\n".join(tail)
            )
        return "".join(parts)


def process_environ(tmp: Path, base_url: str) -> dict[str, str]:
    """The settings every process gets, as a deployment's would be: one database, one Redis."""
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp)),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),  # this checkout's traded_app, whatever the virtualenv points at
        # Development, not production: its cookies are not Secure, so plain HTTP keeps them.
        "APP_ENV": "development",
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "QUEUE_IMMEDIATE": "0",
        "INVOICE_DIR": str(tmp / "invoices"),
        "MAIL_OUTBOX_DIR": str(tmp / "outbox"),
        "APP_BASE_URL": base_url,
        # Set empty so a developer's .env cannot set them: limits in REDIS_URL, mail to the outbox.
        "RATELIMIT_STORAGE_URI": "",
        "MAIL_SERVER": "",
    }
    return environ


def start(name: str, command: list[str], environ: dict[str, str], tmp: Path) -> Process:
    log = tmp / f"{name}.log"
    output: IO[bytes] = log.open("wb")
    popen = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environ,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output.close()
    return Process(name, popen, log)


def empty_database_and_redis(environ: dict[str, str]) -> None:
    """A new schema from the migrations (`flask db upgrade`, as a release runs it), an empty
    Redis (queue and limits)."""
    engine = create_engine(parse_database_url(OWNER_URL or DATABASE_URL))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    # As a release does: the migrations as the tables' owner, who grants the app's role its
    # rows; the app's processes never get the owner's URL.
    migrated = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env={**environ, "DATABASE_OWNER_URL": OWNER_URL} if OWNER_URL else environ,
        capture_output=True,
        timeout=180,
    )
    assert migrated.returncode == 0, migrated.stderr.decode(errors="replace")
    redis.Redis.from_url(REDIS_URL).flushdb()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("scale_out")
    ports = free_ports(2)
    web = [f"http://127.0.0.1:{port}" for port in ports]
    environ = process_environ(tmp, web[0])
    empty_database_and_redis(environ)
    processes: list[Process] = []
    try:
        for index, port in enumerate(ports):
            gunicorn = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2"]
            gunicorn += ["--timeout", "120", "--no-control-socket", "wsgi:app"]
            processes.append(start(f"web{index + 1}", gunicorn, environ, tmp))
        for index in range(2):
            consumer = [str(BIN / "huey_consumer"), "traded_app.worker.huey", "--workers", "1"]
            consumer += ["--worker-type", "process", "--max-delay", "1"]  # as Procfile.production
            processes.append(start(f"worker{index + 1}", consumer, environ, tmp))
        yield Cluster(web, processes, tmp / "outbox")  # booting: wait_until_answering()
    finally:
        for process in processes:
            process.signal(signal.SIGTERM)
        for process in processes:
            process.wait()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory, cluster: Cluster) -> Iterator[Flask]:
    """This process's own app on the same database and Redis, to make the data (through the
    test factories and the services) and to read what happened. Its e-mails are queued in
    Redis like the instances', so the two workers send every one of them."""
    tmp = tmp_path_factory.mktemp("data")
    environ = environ_for_tests(
        tmp,
        DATABASE_URL,
        REDIS_URL=REDIS_URL,
        QUEUE_IMMEDIATE="0",
        MAIL_OUTBOX_DIR=str(cluster.outbox),
    )
    application = create_app(environ)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
    # Leave the process's queue as the test environment has it (other tests may follow).
    jobs.configure({"QUEUE_IMMEDIATE": True})


# --- Browsers -----------------------------------------------------------------------------------


class Browser:
    """A person signed in with their password on one instance; their session cookie is good on
    every instance (one SECRET_KEY), as it is behind a load balancer."""

    def __init__(self, base: str, email_address: str) -> None:
        self.session = requests.Session()
        response = self.session.post(
            f"{base}/sign-in",
            data={
                "csrf_token": csrf_token(self.session, base),
                "email": email_address,
                "password": PASSWORD,
            },
            allow_redirects=False,
            timeout=60,
        )
        assert response.status_code == 302, response.text[:500]
        self.token = csrf_token(self.session, base)  # signing in starts a new session

    def post(self, base: str, path: str) -> requests.Response:
        """From a browser of its own (each thread its own connection and cookie jar)."""
        session = requests.Session()
        session.cookies.update(self.session.cookies)
        return session.post(
            base + path, data={"csrf_token": self.token}, allow_redirects=False, timeout=120
        )

    def get(self, base: str, path: str) -> requests.Response:
        session = requests.Session()
        session.cookies.update(self.session.cookies)
        return session.get(base + path, allow_redirects=False, timeout=60)


def csrf_token(session: requests.Session, base: str) -> str:
    page = session.get(f"{base}/accessibility", timeout=60)
    body = BeautifulSoup(page.text, "html.parser").body
    assert body is not None
    return str(json.loads(str(body["hx-headers"]))["X-CSRFToken"])


def at_once(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Send the requests together (each from its own thread, released at one moment)."""
    barrier = threading.Barrier(len(calls))

    def send(call: Callable[[], requests.Response]) -> requests.Response:
        barrier.wait(timeout=60)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        responses = list(pool.map(send, calls))
    for response in responses:
        assert response.status_code < 500, f"{response.url}: {response.status_code}"
    return responses


def confirm_on_both(admin: Browser, web: list[str], orders: list[int]) -> list[Any]:
    return [
        (lambda base=base, order_id=order_id: admin.post(base, f"/orders/{order_id}/confirm"))
        for order_id in orders
        for base in web
    ]


# --- Reading what happened ----------------------------------------------------------------------


def fresh() -> None:
    db.session.rollback()
    db.session.expire_all()


def statuses_of(order_ids: list[int]) -> set[OrderStatus]:
    fresh()
    return set(db.session.scalars(select(Order.status).where(Order.id.in_(order_ids))))


def runs_report() -> str:
    fresh()
    runs = db.session.scalars(select(InvoiceRun).order_by(InvoiceRun.id))
    return "".join(f"\nrun {r.id}: {r.status.value} {r.error}" for r in runs)


def charges() -> list[Document]:
    fresh()
    return list(
        db.session.scalars(
            select(Document).where(Document.credits_document_id.is_(None)).order_by(Document.id)
        )
    )


def orders_waiting() -> int:
    fresh()
    charged = select(Document.order_id)
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.status.in_(CONFIRMED), Order.id.not_in(charged))
        )
        or 0
    )


def no_run_running() -> bool:
    fresh()
    running = select(func.count()).where(InvoiceRun.status == InvoiceRunStatus.RUNNING)
    return db.session.scalar(running.select_from(InvoiceRun)) == 0


def emails_settled() -> bool:
    fresh()
    queued = select(func.count()).where(OutgoingEmail.status == EmailStatus.QUEUED)
    return db.session.scalar(queued.select_from(OutgoingEmail)) == 0


def outbox_messages(outbox: Path) -> list[EmailMessage]:
    messages = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


# --- The test -----------------------------------------------------------------------------------


def make_world() -> tuple[World, dict[int, User]]:
    """The test factories' council, with a billing contact at every school (so every document
    is e-mailed) and someone at each school to order."""
    world = build_world()
    buyers = {
        world.school.id: world.users[Role.SCHOOL_BUSINESS_MANAGER],
        world.other_school.id: make_user(
            "sbm@hilltop.example", Role.SCHOOL_BUSINESS_MANAGER, world.other_school
        ),
    }
    assert world.academy_sbm is not None
    buyers[world.academy.id] = world.academy_sbm
    for school in (world.school, world.other_school, world.academy):
        school.billing_contact_email = f"accounts{school.urn}@schools.example"
    db.session.commit()
    return world, buyers


def submit(world: World, buyers: dict[int, User], count: int) -> list[int]:
    """`count` orders submitted to the council, spread over the three schools."""
    schools = [world.school, world.other_school, world.academy]
    ids = []
    for index in range(count):
        school = schools[index % 3]
        order = submitted_order(world, {world.service: 2}, school=school, by=buyers[school.id])
        assert order.status == OrderStatus.SUBMITTED
        ids.append(order.id)
    return ids


def test_two_instances_and_two_workers_on_one_database_and_one_redis(
    cluster: Cluster, data: Flask
) -> None:
    a, b = cluster.web
    world, buyers = make_world()  # while the instances and workers start
    cluster.wait_until_answering()
    admin = Browser(a, "admin@council.example")
    finance = Browser(b, "finance@council.example")

    # 1. Sign-in limits are counted once for both instances: 3 wrong passwords on one and 2 on
    # the other lock the account on both (each instance alone has seen fewer than 5).
    def attempt(base: str, password: str) -> requests.Response:
        session = requests.Session()
        token = csrf_token(session, base)
        form = {"csrf_token": token, "email": "head@school.example", "password": password}
        return session.post(f"{base}/sign-in", data=form, allow_redirects=False, timeout=60)

    wrong = [attempt(base, "guess").status_code for base in (a, b, a, b, a)]
    assert wrong == [200] * 5
    for base in (a, b):
        locked = attempt(base, PASSWORD)
        assert locked.status_code == 429, f"{base} let the account in after 5 wrong passwords"
        assert "Try again in 1 minute" in locked.text

    # 2. Orders issued on confirmation: each order confirmed on both instances at once. One
    # confirmation wins; its invoice or recharge is issued in that request.
    on_confirmation = submit(world, buyers, 6)
    at_once(confirm_on_both(admin, cluster.web, on_confirmation))
    assert statuses_of(on_confirmation) == {OrderStatus.CONFIRMED}
    assert sorted(d.order_id for d in charges()) == on_confirmation

    # 3. Invoice runs: more orders confirmed on both instances at once (nothing charged), then
    # a run asked for on each instance at the same moment while three more orders are being
    # confirmed. One run at a time; the queue's workers do it; what it did not take, the next
    # run (asked for on the other instance) does.
    world.council.invoice_timing = "invoice_run"
    db.session.commit()
    in_runs = submit(world, buyers, 6)
    at_once(confirm_on_both(admin, cluster.web, in_runs))
    assert statuses_of(in_runs) == {OrderStatus.CONFIRMED}
    assert orders_waiting() == len(in_runs)
    late = submit(world, buyers, 3)
    asked = at_once(
        [
            lambda: finance.post(a, "/council/invoice-runs"),
            lambda: finance.post(b, "/council/invoice-runs"),
            *confirm_on_both(admin, cluster.web, late),
        ]
    )
    run_pages = [
        r.headers["Location"] for r in asked[:2] if "/invoice-runs/" in r.headers["Location"]
    ]
    assert run_pages, "neither instance started a run"
    for base in (b, a, b):  # a run for what came after the first one's batches, if anything
        wait_for("the invoice run to finish", no_run_running, cluster)
        if not orders_waiting():
            break
        finance.post(base, "/council/invoice-runs")
    wait_for("the invoice run to finish", no_run_running, cluster)
    assert orders_waiting() == 0, runs_report() + cluster.logs()

    # Progress is in the database: the other instance shows the run that one started.
    page = finance.get(b if run_pages[0].startswith(a) else a, run_pages[0])
    assert page.status_code == 200 and "Finished" in page.text

    # 4. Every order confirmed once and charged once.
    all_orders = on_confirmation + in_runs + late
    assert statuses_of(all_orders) == CONFIRMED
    documents = charges()
    assert sorted(d.order_id for d in documents) == sorted(all_orders)
    runs = list(db.session.scalars(select(InvoiceRun)))
    assert {r.status for r in runs} == {InvoiceRunStatus.FINISHED}, runs_report()

    # 5. Each number series has no gap (and no number twice: `number` is unique).
    series: dict[tuple[str, int], list[int]] = {}
    for document in documents:
        key = (document.document_type.value, document.financial_year)
        series.setdefault(key, []).append(document.sequence)
    assert {kind for kind, _year in series} == {"invoice", "recharge"}
    for key, sequences in series.items():
        first = min(sequences)
        assert sorted(sequences) == list(range(first, first + len(sequences))), key

    # 6. Each e-mail sent once: every outbox row sent, one file each; each document's PDF
    # went out once.
    wait_for("the workers to send every e-mail", emails_settled, cluster)
    fresh()
    rows = list(db.session.scalars(select(OutgoingEmail)))
    assert {r.status for r in rows} == {EmailStatus.SENT}, [(r.id, r.last_error) for r in rows]
    messages = outbox_messages(cluster.outbox)
    assert len(messages) == len(rows)
    assert Counter((str(m["To"]), str(m["Subject"])) for m in messages) == Counter(
        (r.recipients, r.subject) for r in rows
    )
    attached = Counter(part.get_filename() for m in messages for part in m.iter_attachments())
    assert attached == Counter(f"{d.number}.pdf" for d in documents)
    assert Counter(r.document_id for r in rows if r.document_id) == Counter(d.id for d in documents)
