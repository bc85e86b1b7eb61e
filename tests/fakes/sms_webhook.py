"""An SMS gateway that speaks the contract's webhook: ``POST`` JSON ``{"to", "body", "idempotency_key"}``.

A real HTTP server on a free local port, in a thread, recording every text it accepts. ``status``
is how it answers (200 by default); ``answers`` queues statuses for the next requests first (e.g.
``[503, 200]``); ``stall_next`` makes the next N requests hang for ``stall_seconds`` before
answering 503 (a copy of each lands in ``stalled``), to test timeouts and a worker killed mid-send;
``hold_answer_next`` accepts the next N (kept in ``texts``) and holds the 200 back for
``stall_seconds``: the sender cannot know they arrived.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.live import free_port


@dataclass
class SmsWebhook:
    port: int = 0
    status: int = 200
    answers: list[int] = field(default_factory=list)
    stall_next: int = 0
    stall_seconds: float = 60.0
    delay: float = 0.0
    hold_answer_next: int = 0
    texts: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    stalled: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    def start(self) -> "SmsWebhook":
        self.port = self.port or free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), name="sms-webhook", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms"

    def to(self, number: str) -> list[dict[str, Any]]:
        with self.lock:
            return [text for text in self.texts if text["to"] == number]

    def keys(self) -> list[str]:
        with self.lock:
            return [text["idempotency_key"] for text in self.texts]

    def _answer(self, text: dict[str, Any]) -> int:
        with self.lock:
            hold = False
            if self.stall_next > 0:
                self.stall_next -= 1
                self.stalled.append(text)
                stall = True
            else:
                stall = False
                status = self.answers.pop(0) if self.answers else self.status
                if self.hold_answer_next > 0 and 200 <= status < 300:
                    self.hold_answer_next -= 1
                    self.texts.append(text)
                    hold = True
        if hold:
            time.sleep(self.stall_seconds)
            return status
        if stall:
            time.sleep(self.stall_seconds)
            return 503
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            (self.texts if 200 <= status < 300 else self.refused).append(text)
        return status

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    text = json.loads(self.rfile.read(length))
                    assert {"to", "body", "idempotency_key"} <= set(text)
                except (ValueError, AssertionError):
                    self._reply(400, {"error": "expected JSON with to, body and idempotency_key"})
                    return
                text["headers"] = dict(self.headers)
                status = fake._answer(text)
                self._reply(status, {"status": HTTPStatus(status).phrase})

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # The caller gave up (timed out or was killed) before we answered.
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
