"""``manage.py check_ready [--only beat,delivery]``: /readyz for a process with no web server.

Prints the readiness answer as JSON and exits 1 when a check fails: docker-compose's health
checks of the worker and beat containers call it.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.readiness import CHECKS, readiness


class Command(BaseCommand):
    help = "Check that the database, the broker and beat are up and mail is not stuck (exit 1 if not)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--only", default=",".join(CHECKS), help=f"comma-separated, of: {', '.join(CHECKS)}")

    def handle(self, *args: Any, **options: Any) -> None:
        only = tuple(name.strip() for name in options["only"].split(",") if name.strip())
        if unknown := set(only) - set(CHECKS):
            raise CommandError(
                f"--only: unknown check(s) {', '.join(sorted(unknown))}; choose from {', '.join(CHECKS)}"
            )
        answer = readiness(only)
        self.stdout.write(json.dumps(answer))
        if answer["status"] != "ok":
            raise CommandError("not ready")
