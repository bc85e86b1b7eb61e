"""The skeleton: settings from the environment, the Celery wiring, the deploy checks."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings

from followthrough.celery import app as celery_app
from followthrough.durations import format_duration, parse_duration, parse_duration_list
from tests import live

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"))
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_tests_run_on_postgresql_and_redis():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis://")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10s", timedelta(seconds=10)),
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(minutes=90)),
        ("45", timedelta(seconds=45)),
    ],
)
def test_durations_are_read_as_operators_write_them(text, expected):
    assert parse_duration(text) == expected


def test_a_bad_duration_is_refused_with_its_text():
    with pytest.raises(ValueError, match="'soon' is not a duration"):
        parse_duration("soon")


def test_durations_round_trip_and_escalation_steps_come_longest_first():
    assert [format_duration(d) for d in (timedelta(hours=24), timedelta(days=2), timedelta(seconds=90))] == [
        "24h",
        "2d",
        "90s",
    ]
    assert parse_duration_list("4h,24h") == [timedelta(hours=24), timedelta(hours=4)]


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DEBUG="false", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_deploy_check_is_clean_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="x" * 30 + "-production-secret-key-0123456789abcdef",
        ALLOWED_HOSTS="followthrough.example.com",
        SITE_URL="https://followthrough.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_bad_setting_names_the_variable():
    result = run_manage("check", DEBUG="true", FOLLOWTHROUGH_UPDATE_INTERVAL="often")
    assert result.returncode != 0
    assert "FOLLOWTHROUGH_UPDATE_INTERVAL" in result.stderr


def test_celery_is_configured_for_safe_delivery():
    conf = celery_app.conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_late is True and conf.timezone == "UTC"
    assert conf.beat_schedule["sweep"]["task"] == "notifications.tasks.sweep"
    assert conf.beat_schedule["sweep"]["schedule"] == settings.FOLLOWTHROUGH_SWEEP_INTERVAL.total_seconds()
    celery_app.loader.import_default_modules()
    assert "notifications.tasks.sweep" in celery_app.tasks


@pytest.mark.live
def test_a_task_round_trips_through_redis_to_a_real_worker(transactional_db, tmp_path):
    """A worker started as a user starts it answers a task sent through the real Redis broker."""
    live.purge_broker()
    result_backend = settings.CELERY_BROKER_URL
    with live.celery_worker(tmp_path, CELERY_RESULT_BACKEND=result_backend):
        sender = Celery("followthrough-test", broker=settings.CELERY_BROKER_URL, backend=result_backend)
        assert sender.send_task("followthrough.ping").get(timeout=30) == "pong"
