"""Readiness: can this deployment deliver right now? (``/readyz`` and ``manage.py check_ready``.)

Four checks, each ``{"ok": ..., ...}``: the database answers; the broker (Redis) takes a
connection; beat is ticking (its last sweep is recent); no message has been due for longer than
one sweep interval without going out (mail is not stuck). Nothing in an answer is secret: no
address, no URL with a password, only what failed and how old things are.
"""

from typing import Any

from django.db import connection

from notifications import engine_health

CHECKS = ("database", "broker", "beat", "delivery")


def readiness(only: tuple[str, ...] = CHECKS) -> dict[str, Any]:
    checks: dict[str, dict[str, Any]] = {}
    if "database" in only or "beat" in only or "delivery" in only:
        checks["database"] = _database()
    if "broker" in only:
        checks["broker"] = _broker()
    if checks.get("database", {}).get("ok") and ({"beat", "delivery"} & set(only)):
        state = engine_health.engine_state()
        if "beat" in only:
            age = state.beat_age
            checks["beat"] = {
                "ok": state.beat_ticking,
                "last_tick_age_seconds": None if age is None else round(age.total_seconds(), 1),
            }
        if "delivery" in only:
            checks["delivery"] = {
                "ok": not state.stuck,
                "oldest_due_age_seconds": round(state.oldest_due_age.total_seconds(), 1),
                "stuck_after_seconds": state.stuck_after.total_seconds(),
                "due": sum(line.due for line in state.backlog.values()),
            }
    else:
        for name in {"beat", "delivery"} & set(only):
            checks[name] = {"ok": False, "error": "the database is unavailable"}
    checks = {name: checks[name] for name in CHECKS if name in checks}
    return {"status": "ok" if all(check["ok"] for check in checks.values()) else "unavailable", "checks": checks}


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:
        connection.close()  # A broken connection is not reused by the next request.
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True}


def _broker() -> dict[str, Any]:
    from followthrough.celery import app

    try:
        with app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True}
