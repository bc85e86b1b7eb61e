"""A local server that speaks Twilio's Messages API, for the official SDK to talk to.

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` with HTTP basic auth (account SID and
auth token) and the form fields ``To``, ``From``, ``Body``; it answers 201 with a Message resource
in JSON, or Twilio's error JSON (``code``, ``message``, ``more_info``, ``status``): 401/20003 for bad
credentials, 400/21211 for a ``To`` that is not an E.164 number, 400/21610 for a number in
``unsubscribed`` (it texted STOP), 400/21603 without ``From``. ``answers`` queues HTTP statuses to
answer first (e.g. ``[500]`` for a 500/20500).
"""

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.live import free_port

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-f]{32})/Messages\.json$")
E164 = re.compile(r"^\+[1-9]\d{7,14}$")
ERRORS = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    21211: (400, "Invalid 'To' Phone Number"),
    21603: (400, "A 'From' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
}
STATUS_CODES = {401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20500}


@dataclass
class TwilioApi:
    account_sid: str = field(default_factory=lambda: "AC" + secrets.token_hex(16))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    from_number: str = "+12025550100"
    port: int = 0
    unsubscribed: set[str] = field(default_factory=set)
    answers: list[int] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def start(self) -> "TwilioApi":
        self.port = self.port or free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), name="twilio-api", daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def to(self, number: str) -> list[dict[str, Any]]:
        with self.lock:
            return [message for message in self.messages if message["to"] == number]

    def _create_message(self, sid: str, authorization: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if authorization != expected or sid != self.account_sid:
            return _error(20003)
        with self.lock:
            forced = self.answers.pop(0) if self.answers else None
        if forced is not None and forced >= 300:
            return _error(STATUS_CODES.get(forced, 20500), status=forced)
        to, sender, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        if not sender:
            return _error(21603)
        if not E164.match(to):
            return _error(21211, f"Invalid 'To' Phone Number: {to}")
        if to in self.unsubscribed:
            return _error(21610)
        now = formatdate(usegmt=True)
        message_sid = "SM" + secrets.token_hex(16)
        message = {
            "sid": message_sid,
            "account_sid": sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_updated": now,
            "date_sent": None,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "status": "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}/Media.json"},
            "to": to,
            "uri": f"/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json",
            # Not in Twilio's answer: kept so a test can read the callback URL the text was sent with.
            "status_callback": form.get("StatusCallback"),
        }
        with self.lock:
            self.messages.append(message)
        return 201, message

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                match = MESSAGES_PATH.match(self.path)
                if not match:
                    self._reply(*_error(20404))
                    return
                length = int(self.headers.get("Content-Length") or 0)
                fields = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                form = {name: values[-1] for name, values in fields.items()}
                self._reply(*fake._create_message(match["sid"], self.headers.get("Authorization", ""), form))

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _error(code: int, message: str = "", *, status: int | None = None) -> tuple[int, dict[str, Any]]:
    default_status, default_message = ERRORS[code]
    status = status or default_status
    return status, {
        "code": code,
        "message": message or default_message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
