"""Prometheus metrics: the engine's own, read at scrape time, plus the serving process's.

The engine's figures come from the database and the shared counters (``engine_health``), so one
scrape of any web process shows what every worker and beat did; the process's own (CPU, memory,
open files, garbage collection) are prometheus-client's standard collectors.
"""

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from notifications import engine_health


class EngineCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        state = engine_health.engine_state()
        pending = GaugeMetricFamily(
            "followthrough_messages_pending", "Messages in the outbox not yet sent, by channel", labels=["channel"]
        )
        due = GaugeMetricFamily(
            "followthrough_messages_due", "Pending messages whose time has come, by channel", labels=["channel"]
        )
        retrying = GaugeMetricFamily(
            "followthrough_messages_retrying",
            "Pending messages that failed at least once, by channel",
            labels=["channel"],
        )
        for channel, line in state.backlog.items():
            pending.add_metric([channel], line.pending)
            due.add_metric([channel], line.due)
            retrying.add_metric([channel], line.retrying)
        yield from (pending, due, retrying)
        yield GaugeMetricFamily(
            "followthrough_oldest_due_message_age_seconds",
            "How long the oldest pending message has been due (0 when none is)",
            value=state.oldest_due_age.total_seconds(),
        )
        yield GaugeMetricFamily(
            "followthrough_delivery_stuck",
            "1 when a message has been due for longer than one sweep interval without going out",
            value=int(state.stuck),
        )
        outcomes = engine_health.outcome_counts()
        for outcome, description in (
            ("sent", "Messages sent"),
            ("failed", "Messages that failed for good"),
            ("retried", "Attempts that failed and will be tried again"),
        ):
            counter = CounterMetricFamily(
                f"followthrough_messages_{outcome}", f"{description}, by channel", labels=["channel"]
            )
            for (counted, channel), count in outcomes.items():
                if counted == outcome:
                    counter.add_metric([channel], count)
            yield counter
        tick = state.last_tick
        age = state.beat_age
        yield GaugeMetricFamily(
            "followthrough_beat_last_tick_age_seconds",
            "Seconds since the last sweep finished (-1 before the first one)",
            value=-1 if age is None else age.total_seconds(),
        )
        yield GaugeMetricFamily(
            "followthrough_beat_ticking", "1 while beat's sweeps come on time", value=int(state.beat_ticking)
        )
        yield GaugeMetricFamily(
            "followthrough_sweep_duration_seconds",
            "How long the last sweep took",
            value=tick.duration_seconds if tick else 0,
        )
        yield GaugeMetricFamily(
            "followthrough_sweep_commitments_swept",
            "Commitments (and call tasks) the last sweep handled",
            value=tick.commitments_swept if tick else 0,
        )
        yield CounterMetricFamily("followthrough_sweeps", "Sweeps run", value=tick.runs if tick else 0)


def exposition() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    for collector in (ProcessCollector, PlatformCollector, GCCollector):
        collector(registry=registry)
    registry.register(EngineCollector())
    return generate_latest(registry)
