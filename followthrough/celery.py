"""The Celery app: configured from Django settings (``CELERY_*``), tasks found in each app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followthrough.settings")

app = Celery("followthrough")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Housekeeping lives with the project, not in an app.
app.autodiscover_tasks(["followthrough"], related_name="housekeeping")


@app.task(name="followthrough.ping")
def ping() -> str:
    """Health check: answers from whichever worker picked it up."""
    return "pong"
