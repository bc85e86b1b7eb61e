"""The chaos suite's one rig for the whole run, and its table of figures at the end of the run."""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.rig import FIGURES, LEASE_SECONDS, SWEEP_SECONDS, Rig


@pytest.fixture(scope="session")
def rig() -> Iterator[Rig]:
    root = Path(tempfile.mkdtemp(prefix="followthrough-chaos-"))
    started = Rig(root)
    try:
        started.start()
        yield started
    finally:
        started.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def case(rig: Rig) -> Iterator[Rig]:
    """Each case starts with empty receivers that answer normally, and both workers up."""
    rig.reset_receivers()
    for name in ("worker1", "worker2"):
        if name not in rig.processes or rig.processes[name].poll() is not None:
            rig.start_worker(name)
    rig.quiesce()
    rig.reset_receivers()
    yield rig
    rig.reset_receivers()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    write = terminalreporter.write_line
    terminalreporter.section("chaos: messages expected, delivered, duplicated and lost")
    write(
        f"two workers (concurrency 2), two beats, gunicorn; lease {LEASE_SECONDS}s, sweep {SWEEP_SECONDS}s, "
        "private PostgreSQL and Redis"
    )
    header = (
        f"{'case':<52} {'expected':>8} {'delivered':>9} {'duplicated':>10} {'lost':>4} {'failed':>6} "
        f"{'tries':>5} {'secs':>5}  window"
    )
    write(header)
    write("-" * len(header))
    for row in FIGURES:
        write(
            f"{row.case:<52} {row.expected:>8} {row.delivered:>9} {row.duplicated:>10} {row.lost:>4} {row.failed:>6} "
            f"{row.max_attempts:>5} {row.seconds:>5.0f}  {row.window or '-'}"
        )
        if row.note:
            write(f"{'':<4}{row.note}")
    write(
        "failed: refused for good by the mail server (5xx), shown on the commitment and told to its owner. "
        "tries: the most attempts any one message took."
    )
