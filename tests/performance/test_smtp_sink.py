"""The benchmark's SMTP server: it takes mail, and serves each connection in a process of its own."""

import select
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import pytest

SINK = Path(__file__).resolve().parents[2] / "benchmarks" / "smtp_sink.py"

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads processes from /proc")

MESSAGE = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: Your promise\r\n\r\nOn its way.\r\n"


def children_of(pid: int) -> set[int]:
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:  # The process ended while we looked.
            continue
        if f"\nPPid:\t{pid}\n" in text:
            found.add(int(status.parent.name))
    return found


def serving(sink_pid: int, count: int, timeout: float = 5.0) -> set[int]:
    """The sink's connection processes, once there are ``count`` of them (or whatever there are at the timeout)."""
    deadline = time.monotonic() + timeout
    while len(found := children_of(sink_pid)) != count and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


@pytest.fixture
def sink():
    process = subprocess.Popen([sys.executable, str(SINK)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 30)
    assert ready, "the SMTP server did not start within 30 s"
    word, port = process.stdout.readline().split()
    assert word == "ready"
    yield process, int(port)
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


def test_two_clients_are_served_side_by_side_by_two_processes_that_end_with_their_connections(sink):
    process, port = sink

    # Given two clients, each on a connection of its own, both sending
    first, second = smtplib.SMTP("127.0.0.1", port), smtplib.SMTP("127.0.0.1", port)
    assert first.sendmail("a@example.com", ["b@example.com"], MESSAGE) == {}
    assert second.sendmail("a@example.com", ["c@example.com"], MESSAGE) == {}

    # Then each connection has a process of its own serving it
    assert len(serving(process.pid, 2)) == 2

    # And a connection's process ends with it, while the other keeps taking mail
    first.quit()
    assert len(serving(process.pid, 1)) == 1
    assert second.sendmail("a@example.com", ["c@example.com"], MESSAGE) == {}
    second.quit()
    assert serving(process.pid, 0) == set()


def test_stopping_the_server_ends_and_reaps_the_processes_of_connections_still_open(sink):
    process, port = sink
    client = smtplib.SMTP("127.0.0.1", port)
    client.noop()
    [child] = serving(process.pid, 1)

    process.terminate()
    assert process.wait(timeout=10) == 0

    # Gone, not a zombie left for whoever adopts it
    assert not Path(f"/proc/{child}").exists()
    client.close()
