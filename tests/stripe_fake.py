"""A fake Stripe for tests: no network. The real `stripe` library talks to it through a replaced
HTTP client (`FakeStripe.http_client()`) or over loopback HTTP (`FakeStripeServer`, for the
browser). It checks each request as Stripe would (the key, form-encoded parameters, an
idempotency key on every POST) and answers in Stripe's shapes. Webhook payloads are signed
with Stripe's scheme: `t=<unix time>,v1=<HMAC-SHA256 of "t.payload" with the secret>`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

SECRET_KEY = "sk_test_fake_key_4242"
WEBHOOK_SECRET = "whsec_fake_signing_secret_7777"


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=1`) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: listify(v) for k, v in node.items()}
            if node and all(k.isdigit() for k in node):
                return [node[k] for k in sorted(node, key=int)]
        return node

    return listify(root)  # type: ignore[no-any-return]


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header for `payload`."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class StripeRequestError(AssertionError):
    """The app sent Stripe something Stripe would refuse (a test failure, not an answer)."""


@dataclass
class FakeStripe:
    """Stripe's state for one test: Checkout Sessions, PaymentIntents, refunds and events."""

    secret_key: str = SECRET_KEY
    checkout_base: str = "https://checkout.stripe.test"
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    idempotent: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)
    fail_next: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    unreachable: bool = False  # every request fails to connect, as when Stripe's API is down
    page_size: int = 100
    clock: int = field(default_factory=lambda: int(time.time()))
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_test_{next(self._ids):06d}"

    # --- The HTTP side ---------------------------------------------------------------------

    def http_client(self) -> stripe.HTTPClient:
        return _FakeHTTPClient(self)

    def handle(
        self, method: str, url: str, headers: Mapping[str, str], body: str
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            parts = urlsplit(url)
            params = decode_form(body if method == "post" else parts.query)
            self.requests.append((method.upper(), parts.path, params, dict(headers)))
            if headers.get("Authorization") != f"Bearer {self.secret_key}":
                return 401, _error("invalid_request_error", "Invalid API Key provided")
            if self.fail_next:
                return self.fail_next.pop(0)
            if method == "post":
                key = headers.get("Idempotency-Key")
                if not key:
                    raise StripeRequestError(f"POST {parts.path} without an idempotency key")
                if key in self.idempotent:
                    sent, answer = self.idempotent[key]
                    if sent != params:
                        return 400, _error(
                            "idempotency_error",
                            "Keys for idempotent requests can only be used "
                            "with the same parameters they were first used with.",
                        )
                    return 200, answer
                status, answer = self._route(method, parts.path, params)
                if status == 200:
                    self.idempotent[key] = (params, answer)
                return status, answer
            return self._route(method, parts.path, params)

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        segments = path.strip("/").split("/")
        if segments[:3] == ["v1", "checkout", "sessions"]:
            if method == "post" and len(segments) == 3:
                return 200, self._create_session(params)
            if method == "get" and len(segments) == 4:
                return self._found(self.sessions, segments[3])
        if segments[:2] == ["v1", "refunds"]:
            if method == "post" and len(segments) == 2:
                return self._create_refund(params)
            if method == "get" and len(segments) == 2:
                refunds = list(self.refunds.values())
                if "charge" in params:
                    refunds = [r for r in refunds if r["charge"] == params["charge"]]
                return 200, self._page(path, refunds, params)
            if method == "get" and len(segments) == 3:
                return self._found(self.refunds, segments[2])
        if segments[:2] == ["v1", "payment_intents"]:
            if method == "get" and len(segments) == 2:
                return 200, self._page(path, list(self.payment_intents.values()), params)
            if method == "get" and len(segments) == 3:
                return self._found(self.payment_intents, segments[2])
        raise StripeRequestError(f"The fake does not know {method.upper()} {path}")

    @staticmethod
    def _found(table: dict[str, dict[str, Any]], key: str) -> tuple[int, dict[str, Any]]:
        if key in table:
            return 200, table[key]
        return 404, _error("invalid_request_error", f"No such object: '{key}'", "resource_missing")

    def _page(
        self, path: str, rows: list[dict[str, Any]], params: dict[str, Any]
    ) -> dict[str, Any]:
        created = params.get("created") or {}
        if "gte" in created:
            rows = [r for r in rows if r["created"] >= int(created["gte"])]
        if "lt" in created:
            rows = [r for r in rows if r["created"] < int(created["lt"])]
        rows.sort(key=lambda r: (-r["created"], r["id"]))  # newest first, as Stripe lists
        after = params.get("starting_after")
        if after:
            index = next(i for i, r in enumerate(rows) if r["id"] == after)
            rows = rows[index + 1 :]
        limit = min(int(params.get("limit", 10)), self.page_size)
        return {
            "object": "list",
            "url": path,
            "has_more": len(rows) > limit,
            "data": rows[:limit],
        }

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        for name in ("mode", "success_url", "cancel_url", "line_items"):
            if name not in params:
                raise StripeRequestError(f"Checkout Session without {name}")
        if params["mode"] != "payment":
            raise StripeRequestError("Checkout Session not in payment mode")
        item = params["line_items"][0]
        price = item["price_data"]
        amount = int(price["unit_amount"]) * int(item["quantity"])
        session_id = self.new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount,
            "currency": price["currency"],
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "metadata": params.get("metadata", {}),
            "payment_intent": None,
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "url": f"{self.checkout_base}/pay/{session_id}",
            "created": self.clock,
            "_params": params,
        }
        self.sessions[session_id] = session
        return session

    def _create_refund(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        intent = self.payment_intents.get(params.get("payment_intent", ""))
        if intent is None:
            return 404, _error("invalid_request_error", "No such payment_intent")
        amount = int(params.get("amount") or intent["amount_received"])
        refunded = sum(
            r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"]
        )
        if amount + refunded > intent["amount_received"]:
            return 400, _error(
                "invalid_request_error",
                "Refund amount is greater than unrefunded amount",
                "charge_already_refunded",
            )
        refund = {
            "id": self.new_id("re"),
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "charge": intent["latest_charge"],
            "status": "succeeded",
            "reason": params.get("reason"),
            "metadata": params.get("metadata", {}),
            "created": self.clock,
        }
        self.refunds[refund["id"]] = refund
        return 200, refund

    # --- What happens at Stripe's end ------------------------------------------------------

    def pay(self, session_id: str, *, amount: int | None = None, currency: str | None = None,
            paid: bool = True) -> dict[str, Any]:  # fmt: skip
        """The customer pays at Checkout (optionally Stripe reports another amount/currency)."""
        with self._lock:
            session = self.sessions[session_id]
            intent_id = self.new_id("pi")
            amount = session["amount_total"] if amount is None else amount
            currency = currency or session["currency"]
            self.payment_intents[intent_id] = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_received": amount if paid else 0,
                "currency": currency,
                "status": "succeeded" if paid else "processing",
                "latest_charge": self.new_id("ch"),
                "metadata": session["metadata"],
                "description": session["_params"].get("payment_intent_data", {}).get("description"),
                "created": self.clock,
            }
            session.update(
                status="complete",
                payment_status="paid" if paid else "unpaid",
                payment_intent=intent_id,
                amount_total=amount,
                currency=currency,
            )
            return self.public(session)

    @staticmethod
    def public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def event(self, kind: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        return {
            "id": event_id or self.new_id("evt"),
            "object": "event",
            "type": kind,
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": self.public(obj)},
        }


def _error(kind: str, message: str, code: str = "") -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, "code": code or None}}


def signed(event: dict[str, Any], secret: str = WEBHOOK_SECRET,
           timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:  # fmt: skip
    """The event as Stripe posts it: the JSON body and its signature header."""
    payload = json.dumps(event, separators=(",", ":")).encode()
    return payload, {"Stripe-Signature": sign(payload, secret, timestamp)}


class _FakeHTTPClient(stripe.HTTPClient):
    """The stripe library's HTTP client, answering from a FakeStripe instead of the network."""

    name = "fake"

    def __init__(self, fake: FakeStripe) -> None:
        super().__init__()
        self.fake = fake

    def request(  # type: ignore[override]
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> tuple[str, int, Mapping[str, str]]:
        if self.fake.unreachable:
            # What the library's own HTTP clients raise on a refused connection or a timeout
            # (without the retry flag, so the test does not sleep through the retries).
            raise stripe.APIConnectionError("Could not connect to Stripe (the fake is down)")
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        status, answer = self.fake.handle(method.lower(), url, headers or {}, body)
        return json.dumps(answer), status, {"Request-Id": "req_fake"}

    def close(self) -> None:
        pass


class FakeStripeServer:
    """The same fake over loopback HTTP, for the browser: Stripe's API under /v1, and a tiny
    Checkout page at /pay/<session> that takes the payment and sends the customer back to the
    success URL, as Stripe's hosted page does."""

    def __init__(self, fake: FakeStripe) -> None:
        self.fake = fake
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _answer(self, method: str) -> None:
                path = urlsplit(self.path).path
                if method == "get" and path.startswith("/pay/"):
                    session = outer.fake.pay(path.removeprefix("/pay/"))
                    target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
                    self.send_response(303)
                    self.send_header("Location", target)
                    self.end_headers()
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                status, answer = outer.fake.handle(
                    method, f"http://fake{self.path}", dict(self.headers.items()), body
                )
                content = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def do_GET(self) -> None:
                self._answer("get")

            def do_POST(self) -> None:
                self._answer("post")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        fake.checkout_base = self.url
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeStripeServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
