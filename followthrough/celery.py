"""The Celery app: configured from Django settings (``CELERY_*``), tasks found in each app."""

import os
from pathlib import Path
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followthrough.settings")

app = Celery("followthrough")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Housekeeping lives with the project, not in an app.
app.autodiscover_tasks(["followthrough"], related_name="housekeeping")


@app.on_after_configure.connect
def make_embedded_broker_folders(sender: Celery, **kwargs: Any) -> None:
    """The embedded on-disk broker (no CELERY_BROKER_URL) keeps its queue in folders it does not
    make itself: make them when Celery first reads its settings, in whichever process sends or
    takes a task first, so that loading the settings never writes to the disk."""
    for option in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        folder = sender.conf.broker_transport_options.get(option)
        if folder and sender.conf.broker_url.startswith("filesystem://"):
            Path(folder).mkdir(parents=True, exist_ok=True)


@app.task(name="followthrough.ping")
def ping() -> str:
    """Health check: answers from whichever worker picked it up."""
    return "pong"


@signals.worker_init.connect
def refuse_unsafe_delivery_settings(**kwargs: Any) -> None:
    """A worker whose sends could outlast their lease would send messages twice: it does not start."""
    from django.core.checks import run_checks

    errors = [message for message in run_checks(tags=["delivery"]) if message.is_serious()]
    if errors:
        # SystemExit, not an exception: Celery logs and ignores an exception raised by a signal handler.
        raise SystemExit("\n".join(f"{error.id}: {error.msg} {error.hint or ''}" for error in errors))
