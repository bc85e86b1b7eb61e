"""The benchmark's SMTP server: it takes mail, and serves each connection in a process of its own."""

import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

SINK = Path(__file__).resolve().parents[2] / "benchmarks" / "smtp_sink.py"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


def still_running(pid: int) -> bool:
    """Neither gone nor a zombie waiting for whoever adopted it to reap it."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


@pytest.fixture
def sink():
    port = free_port()
    process = subprocess.Popen([sys.executable, str(SINK), str(port)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    yield process, port
    process.terminate()
    process.wait(timeout=10)


def serving(sink_pid: int, count: int, timeout: float = 5.0) -> set[int]:
    """The sink's connection processes, once there are ``count`` of them (or whatever there are at the timeout)."""
    deadline = time.monotonic() + timeout
    while len(found := children_of(sink_pid)) != count and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads processes from /proc")
def test_two_clients_are_served_side_by_side_by_two_processes_that_end_with_their_connections(sink):
    process, port = sink
    message = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: Your promise\r\n\r\nOn its way.\r\n"

    # Given two clients, each on a connection of its own, both sending
    first, second = smtplib.SMTP("127.0.0.1", port), smtplib.SMTP("127.0.0.1", port)
    assert first.sendmail("a@example.com", ["b@example.com"], message) == {}
    assert second.sendmail("a@example.com", ["c@example.com"], message) == {}

    # Then each connection has a process of its own serving it
    assert len(serving(process.pid, 2)) == 2

    # And a connection's process ends with it, while the other keeps taking mail
    first.quit()
    assert len(serving(process.pid, 1)) == 1
    assert second.sendmail("a@example.com", ["c@example.com"], message) == {}
    second.quit()
    assert serving(process.pid, 0) == set()


def test_stopping_the_server_ends_the_processes_of_connections_still_open(sink):
    process, port = sink
    client = smtplib.SMTP("127.0.0.1", port)
    client.noop()
    [child] = serving(process.pid, 1)

    process.terminate()
    process.wait(timeout=10)

    deadline = time.monotonic() + 5
    while still_running(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not still_running(child)
    client.close()
