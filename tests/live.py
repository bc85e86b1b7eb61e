"""Start the app's real processes (Celery worker and beat, gunicorn) against the test database.

The processes get the environment a user would give them, pointed at the database pytest-django
created, so they see exactly the rows a transactional test committed.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).with_name("celery"))
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def process_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "followthrough.settings",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def purge_broker() -> None:
    """Drop tasks earlier tests left in the queue, so a worker only sees this test's."""
    subprocess.run(
        [CELERY, "-A", "followthrough", "purge", "-f"],
        cwd=ROOT,
        env=process_env(),
        check=True,
        capture_output=True,
        timeout=60,
    )


@contextmanager
def running(args: list[str], *, env: dict[str, str], log: Path, ready: str | None = None) -> Iterator[subprocess.Popen]:
    """Run a process for the length of the block; wait until ``ready`` shows in its output."""
    with log.open("wb") as out:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            if ready:
                deadline = time.monotonic() + 60
                while ready not in log.read_text(errors="replace"):
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"{args[0]} did not start:\n{log.read_text(errors='replace')[-3000:]}")
                    time.sleep(0.2)
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@contextmanager
def celery_worker(tmp_path: Path, name: str = "worker", **env: str) -> Iterator[subprocess.Popen]:
    args = [CELERY, "-A", "followthrough", "worker", "-n", f"{name}@%h", "--concurrency", "2", "-l", "INFO"]
    with running(args, env=process_env(**env), log=tmp_path / f"{name}.log", ready="ready.") as process:
        yield process


@contextmanager
def celery_beat(tmp_path: Path, name: str = "beat", **env: str) -> Iterator[subprocess.Popen]:
    args = [CELERY, "-A", "followthrough", "beat", "-l", "INFO", "--schedule", str(tmp_path / f"{name}-schedule")]
    with running(args, env=process_env(**env), log=tmp_path / f"{name}.log", ready="beat: Starting") as process:
        yield process


def wait_for(condition, *, timeout: float = 30, interval: float = 0.2, message: str = "condition"):
    """Poll until ``condition()`` is truthy and return it, or fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


@contextmanager
def gunicorn_web(tmp_path: Path, **env: str) -> Iterator[str]:
    """The web process as production runs it; yields its base URL."""
    port = free_port()
    args = [GUNICORN, "followthrough.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", "-"]
    environment = process_env(SITE_URL=f"http://127.0.0.1:{port}", **env)
    with running(args, env=environment, log=tmp_path / "web.log", ready="Booting worker"):
        yield f"http://127.0.0.1:{port}"


def daytime_zone_now() -> str:
    """A time zone where it is early afternoon right now, so no text is held for quiet hours."""
    from django.utils import timezone

    offset = 13 - timezone.now().hour  # Hours ahead of UTC; between -10 and +13.
    if offset == 0:
        return "Etc/GMT"
    # IANA's Etc zones count the other way round: Etc/GMT-3 is three hours ahead of UTC.
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL a process and its children (a worker's pool), as a crash or the OOM killer would."""
    children = [pid for pid in _process_ids() if _parent_of(pid) == process.pid]
    os.kill(process.pid, signal.SIGKILL)
    for pid in children:
        with contextlib.suppress(ProcessLookupError):  # It died with its parent.
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def _process_ids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])
