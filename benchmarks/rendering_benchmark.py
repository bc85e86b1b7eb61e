"""How fast the sweep's messages are written: frames (each template rendered once per shape, then
filled in) against rendering every message through Django's template engine (cached loader).

Run from the repository root (no database is needed: the promises are built in memory)::

    DEBUG=true .venv/bin/python benchmarks/rendering_benchmark.py

Options: ``--messages N`` (default 5000), ``--repeat N`` (default 5; the figures are medians),
``--profile FILE`` (profile one batch written the product's way, save the stats to FILE and print
the costliest functions), ``--save FILE`` (write the messages to a JSON file: two versions of the
code must write the same file, to the byte, as the sweep's time is fixed). Not a test: it prints
figures, with the load average beside them.

The batch is what a status update sweep writes: automatic status updates to customers who read
English, Spanish or Mexican Spanish, in four zones, by email (two in three) or text, whose
promises are open, waiting, missed or reopened. The process first writes one batch unmeasured,
as a running worker has long before (templates compiled, frames made, times written).

"Django templates" writes every message through the product's own direct path (the one a
template whose frame cannot be made takes), with each template looked up through Django's cached
loader: what ``notifications.wording`` would be without frames. Both ways must write the same
messages to the byte; the benchmark checks that before it measures.
"""

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LANGUAGES = ("en", "es", "es-MX")
ZONES = ("America/New_York", "Europe/Madrid", "America/Mexico_City", "Asia/Tokyo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", default="", help="save cProfile stats of one batch to this file")
    parser.add_argument("--save", default="", help="write the messages to this JSON file (to compare two versions)")
    options = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followthrough.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    run(options)


def build_batch(count: int, now: datetime) -> list[tuple[Any, str, datetime]]:
    """``count`` promises due a status update: (commitment, channel, the last update's time)."""
    from accounts.models import Team, User
    from commitments.models import Channel, Commitment, Customer, Status

    teams = [Team(id=number + 1, name=f"Home Repairs {number}", timezone=ZONES[number]) for number in range(4)]
    owners = [
        User(id=number + 1, username=f"agent{number}", first_name="Alex", last_name=f"Rivera {number}")
        for number in range(20)
    ]
    statuses = [Status.OPEN] * 7 + [Status.WAITING, Status.MISSED, Status.REOPENED]
    batch: list[tuple[Any, str, datetime]] = []
    for index in range(count):
        status = statuses[index % len(statuses)]
        channel = Channel.SMS if index % 3 == 2 else Channel.EMAIL
        customer = Customer(
            id=index + 1,
            team=teams[index % 4],
            name=f"Dana Whitfield {index}",
            email=f"dana{index}@example.com",
            phone=f"+1202555{index % 10000:04d}",
            timezone=ZONES[(index // 4) % 4],
            language=LANGUAGES[index % len(LANGUAGES)],
            preferred_channel=channel,
        )
        last_update = now - timedelta(hours=24, minutes=index % 50)
        commitment = Commitment(
            id=index + 1,
            customer=customer,
            team=customer.team,
            owner=owners[index % len(owners)],
            summary=f"Send the revised estimate for the water heater no. {index}",
            status=status,
            due_at=now + timedelta(days=2, hours=index % 24) if status != Status.MISSED else now - timedelta(hours=3),
            update_interval=timedelta(hours=24),
            last_update_at=last_update,
            next_update_at=now + timedelta(hours=24),
            created_at=now - timedelta(days=3),
            waiting_request="A photo of the label on the side of the water heater" if status == Status.WAITING else "",
            status_token_nonce=f"{index:064x}",
        )
        batch.append((commitment, channel, last_update))
    return batch


def product_way(batch: list[tuple[Any, str, datetime]], now: datetime) -> list[Any]:
    """The batch written as the sweep writes it (``Outgoing.to_customer``)."""
    from notifications import wording
    from notifications.models import MessageKind

    return [
        wording.render_customer_message(commitment, MessageKind.STATUS_UPDATE, channel=channel, since=since, now=now)
        for commitment, channel, since in batch
    ]


@contextmanager
def django_templates() -> Iterator[None]:
    """Every message rendered through Django's templates: no frames, templates from the cached loader."""
    from django.template.loader import get_template

    from notifications.wording import frames, sms, templates

    saved = frames._frame, sms.sms_frame, templates.compiled
    frames._frame = lambda *args: None
    sms.sms_frame = lambda *args: None
    templates.compiled = lambda name: get_template(name).template  # type: ignore[attr-defined]
    try:
        yield
    finally:
        frames._frame, sms.sms_frame, templates.compiled = saved


def timed(write: Callable[[], list[Any]]) -> tuple[float, float]:
    """Seconds on the clock, and of this process's CPU (less moved by what else runs on the machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    write()
    return time.perf_counter() - wall, time.process_time() - cpu


def run(options: argparse.Namespace) -> None:
    # A fixed time: the messages are the same on every run, and two versions can be compared.
    now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    batch = build_batch(options.messages, now)
    print(f"load average at the start: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")

    # Both ways write the same messages (and warm up: templates compiled, frames made).
    framed = product_way(batch, now)
    with django_templates():
        direct = product_way(batch, now)
    for one, other in zip(framed, direct, strict=True):
        assert (one.subject, one.text, dict(one.layout)) == (other.subject, other.text, dict(other.layout)), (
            one,
            other,
        )
    emails = sum(1 for content in framed if content.layout)
    print(f"{len(batch):,} status updates ({emails:,} emails, {len(batch) - emails:,} texts), {', '.join(LANGUAGES)}:")
    print("the same messages both ways, to the byte")
    if options.save:
        written = [{"subject": one.subject, "text": one.text, "layout": one.layout} for one in framed]
        Path(options.save).write_text(json.dumps(written, ensure_ascii=False, indent=0))

    if options.profile:
        profiler = cProfile.Profile()
        profiler.runcall(product_way, batch, now)
        profiler.dump_stats(options.profile)
        pstats.Stats(options.profile).sort_stats("cumulative").print_stats(25)

    # The two ways take turns, so that a change of load on the machine falls on both.
    ways: dict[str, Callable[[], Any]] = {
        "frames (the product's way)": nullcontext,
        "Django templates, cached loader": django_templates,
    }
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    for _ in range(options.repeat):
        for name, way in ways.items():
            with way():
                runs[name].append(timed(lambda: product_way(batch, now)))

    print()
    print(f"Medians of {options.repeat} runs of the batch each, taking turns.")
    print()
    print("| way | messages a second | µs a message | messages a CPU second | CPU µs a message |")
    print("| --- | --- | --- | --- | --- |")
    medians = {}
    for name, timings in runs.items():
        wall = statistics.median(seconds for seconds, _ in timings)
        cpu = medians[name] = statistics.median(seconds for _, seconds in timings)
        count = len(batch)
        print(
            f"| {name} | {count / wall:,.0f} | {wall / count * 1e6:.0f} "
            f"| {count / cpu:,.0f} | {cpu / count * 1e6:.0f} |"
        )
    framed_cpu, direct_cpu = medians.values()
    share = f"{framed_cpu / direct_cpu:.0%} of the CPU time of Django templates"
    print(f"\nframes take {share} ({direct_cpu / framed_cpu:.1f}x as fast)")
    print(f"load average at the end: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
