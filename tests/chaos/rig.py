"""The chaos rig: the whole app as production runs it, on a private PostgreSQL and Redis.

gunicorn (two workers), two Celery workers and two beats for the whole run, a real SMTP server and
an SMS webhook started here, every FOLLOWTHROUGH_* duration in seconds. Commitments are logged
through the REST API; what reached the SMTP server and the SMS endpoint is compared, message by
message (by Message-ID and idempotency key), with the outbox rows in the database.
"""

import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2
import requests

from tests import live
from tests.chaos.services import PrivatePostgres, PrivateRedis
from tests.fakes.sms_webhook import SmsWebhook
from tests.fakes.smtp import MailServer

DATABASE = "followthrough_chaos"
SENDER_DOMAIN = "followthrough.test"
LEASE_SECONDS = 6
SWEEP_SECONDS = 1
METRICS_TOKEN = "chaos-metrics-token"
PASSWORD = "chaos-password-not-secret"
AREA_CODES = ["202", "312", "415", "617", "718", "305", "206", "512", "303", "404"]


@dataclass
class Figures:
    """One row of the chaos table."""

    case: str
    expected: int
    delivered: int
    duplicated: int
    lost: int
    failed: int = 0
    stray: int = 0
    max_attempts: int = 0
    window: str = ""
    seconds: float = 0.0
    note: str = ""
    duplicate_rows: list[int] = field(default_factory=list)


FIGURES: list[Figures] = []


class Rig:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.postgres = PrivatePostgres()
        self.redis = PrivateRedis()
        self.mail = MailServer()
        self.sms = SmsWebhook()
        self.web_url = ""
        self.token = ""
        self.processes: dict[str, subprocess.Popen] = {}
        self.incarnations: Counter[str] = Counter()
        self.zone = live.daytime_zone_now()
        self._phones = iter(f"+1{area}555{number:04d}" for area in AREA_CODES for number in range(100, 200))
        self._emails = (f"customer{number}@example.com" for number in range(1, 100000))
        self.customers: list[dict[str, Any]] = []
        # Every commitment the API said it logged (201) in this case: each must have its acknowledgement.
        self.logged: list[int] = []

    # --- Starting and stopping -------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        return live.process_env(
            DATABASE_URL=self.postgres.url(DATABASE),
            CELERY_BROKER_URL=self.redis.url,
            DEBUG="false",
            SECRET_KEY="chaos-suite-secret-key-not-for-production-0123456789",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SITE_URL=self.web_url or "http://127.0.0.1:8000",
            SECURE_SSL_REDIRECT="false",
            SESSION_COOKIE_SECURE="false",
            CSRF_COOKIE_SECURE="false",
            EMAIL_URL=self.mail.url,
            DEFAULT_FROM_EMAIL=f"followthrough@{SENDER_DOMAIN}",
            SMS_BACKEND="webhook",
            SMS_WEBHOOK_URL=self.sms.url,
            FOLLOWTHROUGH_SWEEP_INTERVAL=f"{SWEEP_SECONDS}s",
            FOLLOWTHROUGH_DELIVERY_LEASE=f"{LEASE_SECONDS}s",
            FOLLOWTHROUGH_RETRY_MAX="2s",
            FOLLOWTHROUGH_QUIET_HOURS="03:00-03:01",
            METRICS_TOKEN=METRICS_TOKEN,
            THROTTLE_USER="100000/min",
            THROTTLE_TOKEN="100000/min",
            THROTTLE_ANON="100000/min",
            LOG_LEVEL="INFO",
        )

    def start(self) -> "Rig":
        self.mail.start()
        self.sms.start()
        self.postgres.start()
        self.postgres.create_database(DATABASE)
        self.redis.start()
        self.manage("migrate", "--no-input")
        self.manage("shell", "-c", SEED.format(zone=self.zone, password=PASSWORD))
        port = live.free_port()
        self.web_url = f"http://127.0.0.1:{port}"
        gunicorn = [live.GUNICORN, "followthrough.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
        self.spawn("web", [*gunicorn, "--graceful-timeout", "2"])
        for name in ("worker1", "worker2"):
            self.start_worker(name, wait=False)
        for name in ("beat1", "beat2"):
            schedule = self.root / f"{name}-schedule"
            self.spawn(name, [live.CELERY, "-A", "followthrough", "beat", "-l", "INFO", "--schedule", str(schedule)])
        self.wait_ready("web", "Booting worker")
        for name in ("worker1", "worker2"):
            self.wait_ready(name, "ready.")
        for name in ("beat1", "beat2"):
            self.wait_ready(name, "beat: Starting")
        answer = requests.post(
            f"{self.web_url}/api/v1/auth/token/", json={"username": "alex", "password": PASSWORD}, timeout=30
        )
        answer.raise_for_status()
        self.token = answer.json()["token"]
        return self

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_process(name)
        self.redis.kill()
        self.postgres.stop()
        self.mail.stop()
        self.sms.stop()

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=live.ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=300,
        )

    def log(self, name: str) -> Path:
        return self.root / f"{name}-{self.incarnations[name]}.log"

    def spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        self.incarnations[name] += 1
        with self.log(name).open("wb") as out:
            process = subprocess.Popen(args, cwd=live.ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.processes[name] = process
        return process

    def wait_ready(self, name: str, marker: str, timeout: float = 90) -> None:
        process, log = self.processes[name], self.log(name)
        deadline = time.monotonic() + timeout
        while marker not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)

    def start_worker(self, name: str, *, wait: bool = True) -> None:
        args = [live.CELERY, "-A", "followthrough", "worker", "-n", f"{name}@%h", "--concurrency", "2", "-l", "INFO"]
        self.spawn(name, [*args, "--without-mingle", "--without-gossip", "--without-heartbeat"])
        if wait:
            self.wait_ready(name, "ready.")

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker and its pool: no cleanup, no goodbye, leases left behind."""
        live.kill_hard(self.processes.pop(name))

    def stop_process(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            live.kill_hard(process)

    def workers(self) -> list[str]:
        return [name for name in self.processes if name.startswith("worker")]

    # --- The database, read as an operator would -------------------------------------------

    def sql(self, query: str, params: Iterable[Any] = ()) -> list[tuple]:
        """Run a read on the private database, waiting for it while it restarts."""
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = psycopg2.connect(
                    host="127.0.0.1", port=self.postgres.port, user="postgres", dbname=DATABASE, connect_timeout=3
                )
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
                continue
            try:
                with connection, connection.cursor() as cursor:
                    cursor.execute(query, tuple(params))
                    return cursor.fetchall() if cursor.description else []
            finally:
                connection.close()

    def last_notification_id(self) -> int:
        return int(self.sql("SELECT coalesce(max(id), 0) FROM notifications_notification")[0][0])

    def pending_after(self, base: int) -> int:
        return int(
            self.sql(
                "SELECT count(*) FROM notifications_notification WHERE id > %s AND status = 'pending'"
                " AND channel <> 'phone'",
                [base],
            )[0][0]
        )

    # --- Logging promises through the API --------------------------------------------------

    def api(
        self, method: str, path: str, extra_headers: dict[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        headers = {"Authorization": f"Token {self.token}", **(extra_headers or {})}
        deadline = time.monotonic() + 60
        while True:
            try:
                response = requests.request(method, f"{self.web_url}{path}", headers=headers, timeout=30, **kwargs)
            except requests.ConnectionError:
                response = None
            if response is not None and response.status_code < 500:
                return response
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {path}: {response.status_code if response else 'no answer'}")
            time.sleep(0.5)  # The web process is reconnecting (PostgreSQL restarted): try again, as a client would.

    def log_promises(
        self, count: int, *, texts: float = 0.5, due_in: timedelta = timedelta(days=3), **fields: Any
    ) -> list[int]:
        """Log ``count`` promises through the API, a share of them to customers who prefer texts;
        each falls due ``due_in`` after it is logged."""
        bodies = []
        for number in range(count):
            by_text = number < count * texts
            customer = {
                "name": f"Customer {number}",
                "email": next(self._emails),
                "preferred_channel": "sms" if by_text else "email",
                "timezone": self.zone,
            }
            if by_text:
                customer["phone"] = next(self._phones)
            bodies.append({"customer": customer, "summary": f"Chaos promise {number}", **fields})
        self.customers = [body["customer"] for body in bodies]

        def create(body: dict[str, Any]) -> int:
            # The same Idempotency-Key on a retry: a POST whose answer was lost is not logged twice.
            headers = {"Idempotency-Key": str(uuid.uuid4())}
            body = {**body, "due_at": (datetime.now(UTC) + due_in).isoformat()}
            response = self.api("POST", "/api/v1/commitments/", json=body, extra_headers=headers)
            assert response.status_code == 201, response.text
            return int(response.json()["id"])

        with ThreadPoolExecutor(max_workers=4) as pool:
            ids = list(pool.map(create, bodies))
        self.logged.extend(ids)
        return ids

    # --- Counting ------------------------------------------------------------------------

    def reset_receivers(self) -> None:
        self.logged.clear()
        with self.mail.lock:
            self.mail.messages.clear()
            self.mail.stalled.clear()
            self.mail.refused.clear()
        with self.sms.lock:
            self.sms.texts.clear()
            self.sms.stalled.clear()
            self.sms.refused.clear()
        self.mail.mode, self.mail.reject_recipients = "accept", set()
        self.mail.stall_next = self.mail.hold_answer_next = self.mail.drop_next = 0
        self.sms.stall_next = self.sms.hold_answer_next = 0
        self.sms.answers.clear()

    def quiesce(self) -> None:
        """Close whatever an earlier case left open (a case that failed half-way, say), and let every
        message already made go out, so that this case counts only its own."""
        open_ones = self.sql(
            "SELECT id FROM commitments_commitment WHERE status NOT IN ('cancelled', 'fulfilled', 'confirmed')"
        )
        for (pk,) in open_ones:
            self.api("POST", f"/api/v1/commitments/{pk}/cancel/", json={"reason": "The chaos case is over"})
        self.settle(0)

    def reset_receivers_faults(self) -> None:
        """Receivers answer normally again (what they received is kept)."""
        for receiver in (self.mail, self.sms):
            receiver.stall_next = receiver.hold_answer_next = 0
        self.mail.drop_next = 0

    def settle(self, base: int, *, timeout: float = 90) -> None:
        """Wait until every message made since ``base`` is sent or failed, and for any late repeat."""
        live.wait_for(
            lambda: self.pending_after(base) == 0, timeout=timeout, interval=0.5, message="every message settled"
        )
        time.sleep(1.5)
        live.wait_for(
            lambda: self.pending_after(base) == 0, timeout=timeout, interval=0.5, message="every message settled"
        )

    def accepted_not_recorded(self, base: int) -> int:
        """Messages the receivers hold whose row is still pending: what a kill right now may resend.

        Delivery records sent rows a few at a time (``notifications.sent_records``), so this window
        is every sent-but-not-yet-recorded row of the batches in flight, not one per sender.
        """
        rows = self.sql(
            "SELECT idempotency_key, channel FROM notifications_notification"
            " WHERE id > %s AND status = 'pending' AND channel <> 'phone'",
            [base],
        )
        with self.mail.lock:
            emails = {str(message["Message-ID"]).strip() for message in self.mail.messages}
        with self.sms.lock:
            texts = {text["idempotency_key"] for text in self.sms.texts}
        return sum(
            1
            for key, channel in rows
            if (f"<{key.replace(':', '.')}@{SENDER_DOMAIN}>" in emails if channel == "email" else key in texts)
        )

    def figures(self, case: str, base: int, *, started: float, window: str = "", note: str = "") -> Figures:
        rows = self.sql(
            "SELECT id, idempotency_key, channel, status, attempts FROM notifications_notification"
            " WHERE id > %s AND channel <> 'phone'",
            [base],
        )
        with self.mail.lock:
            emails = Counter(str(message["Message-ID"]).strip() for message in self.mail.messages)
        with self.sms.lock:
            texts = Counter(text["idempotency_key"] for text in self.sms.texts)
        received: Counter[str] = Counter()
        figures = Figures(case=case, expected=0, delivered=0, duplicated=0, lost=0, window=window, note=note)
        for pk, key, channel, status, attempts in rows:
            token = f"<{key.replace(':', '.')}@{SENDER_DOMAIN}>" if channel == "email" else key
            copies = (emails if channel == "email" else texts)[token]
            received[token] = copies
            figures.max_attempts = max(figures.max_attempts, attempts)
            if status == "suppressed" and not copies:
                continue  # Cancelled before it went out: nobody should get it.
            if status == "failed" and not copies:
                figures.failed += 1  # Refused for good by the server (a 5xx), told to the owner.
                continue
            figures.expected += 1
            if copies:
                figures.delivered += 1
            if copies > 1:
                figures.duplicated += copies - 1
                figures.duplicate_rows.append(pk)
        # A promise the API confirmed whose acknowledgement is not in the outbox is lost too.
        acknowledged = {
            pk
            for (pk,) in self.sql(
                "SELECT commitment_id FROM notifications_notification WHERE kind = 'acknowledgement'"
                " AND commitment_id = ANY(%s)",
                [self.logged],
            )
        }
        figures.expected += len(set(self.logged) - acknowledged)
        figures.lost = figures.expected - figures.delivered
        figures.stray = sum(count for token, count in (emails + texts).items() if token not in received)
        figures.seconds = round(time.monotonic() - started, 1)
        FIGURES.append(figures)
        return figures

    # --- What operators see ----------------------------------------------------------------

    def readyz(self) -> dict[str, Any]:
        return dict(requests.get(f"{self.web_url}/readyz", timeout=10).json())

    def metrics(self) -> str:
        headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        return requests.get(f"{self.web_url}/metrics", headers=headers, timeout=10).text

    def run_script(self, code: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=live.ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )


def every(seconds: float, action: Callable[[], None], stop: threading.Event) -> threading.Thread:
    """Run ``action`` every ``seconds`` in a thread until ``stop`` is set."""

    def loop() -> None:
        while not stop.wait(seconds):
            with suppress(Exception):
                action()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


SEED = """
from datetime import time
from accounts.models import Membership, Team, User
team = Team.objects.create(name="Chaos", timezone="{zone}", workday_starts=time(0, 0), workday_ends=time(23, 59),
                           working_days="1,2,3,4,5,6,7")
alex = User.objects.create_user("alex", "alex@followthrough.test", "{password}", first_name="Alex", last_name="Rivera")
lee = User.objects.create_user("lee", "lee@followthrough.test", "{password}", first_name="Lee", last_name="Chen")
Membership.objects.create(user=alex, team=team, role=Membership.Role.AGENT)
Membership.objects.create(user=lee, team=team, role=Membership.Role.LEAD)
"""
