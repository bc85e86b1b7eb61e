"""docker-compose.yml, the Dockerfile and the Procfiles start the project's real entry points.

No Docker engine runs in CI, so these load the files and check every command against the code.
"""

import importlib
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def check_entry_point(argv: list[str]) -> None:
    """Fail unless ``argv`` starts one of the project's processes in a way that can work."""
    program, *args = argv
    if program == "gunicorn":
        module, _, attribute = args[0].partition(":")
        app = getattr(importlib.import_module(module), attribute or "application")
        assert callable(app)
        assert "--bind" in args
    elif program == "celery":
        assert args[:2] == ["-A", "followthrough"]
        assert args[2] in {"worker", "beat"}
        celery_app = importlib.import_module("followthrough").celery_app
        assert "notifications.tasks.sweep" in {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    elif program == "python":
        assert args[0] == "manage.py" and args[1] in get_commands(), args
    else:
        pytest.fail(f"unexpected program {program!r}")


def test_compose_has_every_service_with_a_health_check():
    assert {"postgres", "redis", "web", "worker", "beat", "mailpit"} <= set(SERVICES)
    for name in ("postgres", "redis", "web", "worker", "beat", "mailpit"):
        assert "healthcheck" in SERVICES[name], f"{name} has no health check"


@pytest.mark.parametrize("name", ["migrate", "web", "worker", "beat"])
def test_compose_app_services_run_real_entry_points(name):
    service = SERVICES[name]
    check_entry_point(service["command"])
    env = service["environment"]
    assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert env["DEBUG"] == "false" and env["SECRET_KEY"]


def test_the_app_waits_for_its_database_broker_and_migrations():
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("procfile", ["Procfile", "Procfile.dev"])
def test_procfiles_run_real_entry_points(procfile):
    processes = dict(
        line.split(":", 1) for line in (ROOT / procfile).read_text().splitlines() if line and not line.startswith("#")
    )
    assert {"web", "worker", "beat"} <= set(processes)
    for command in processes.values():
        argv = [part for part in shlex.split(command) if not part.startswith("${")]
        check_entry_point(argv)


def test_dockerfile_installs_the_project_and_serves_with_gunicorn():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11" in dockerfile
    assert "pip install ." in dockerfile
    assert "collectstatic" in dockerfile
    assert '"gunicorn", "followthrough.wsgi"' in dockerfile


@pytest.mark.django_db
def test_compose_postgres_is_given_room_for_a_million_promises():
    """The settings the README asks for, each one PostgreSQL knows, with a value it takes."""
    from django.db import connection

    argv = SERVICES["postgres"]["command"]
    assert argv[0] == "postgres"
    given = dict(value.split("=", 1) for flag, value in zip(argv[1::2], argv[2::2], strict=True) if flag == "-c")
    assert {"shared_buffers", "max_wal_size", "wal_compression"} <= set(given)
    with connection.cursor() as cursor:
        for name, value in given.items():
            cursor.execute("SELECT vartype, enumvals FROM pg_settings WHERE name = %s", [name])
            found = cursor.fetchone()
            assert found is not None, f"PostgreSQL has no setting {name}"
            kind, choices = found
            if kind == "enum":
                assert value in choices, f"{name} = {value}: not one of {choices}"
            else:  # a size: PostgreSQL reads "1GB" as a memory or WAL size
                cursor.execute("SELECT pg_size_bytes(%s)", [value])
                assert cursor.fetchone()[0] >= 1024**3, f"{name} = {value} is under a gigabyte"
