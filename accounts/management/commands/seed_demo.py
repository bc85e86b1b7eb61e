"""Fill an empty database with a realistic demo team, and print how to log in."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Team, User
from commitments import services
from commitments.demo_history import Agent, History

DEMO_PASSWORD = "followthrough-demo"

CUSTOMERS = [
    ("Dana Whitfield", "dana.whitfield@example.com", "+12025550143", "email", "America/New_York"),
    ("Priya Raman", "priya.raman@example.com", "+14155550178", "sms", "America/Los_Angeles"),
    ("Tomás Herrera", "tomas.herrera@example.com", "+13125550110", "phone", "America/Chicago"),
    ("Grace Lin", "grace.lin@example.com", "+16175550199", "email", "America/New_York"),
    ("Omar Haddad", "omar.haddad@example.com", "+12065550122", "email", "America/Los_Angeles"),
]

PROMISES = [
    (0, "alex", "Send the revised estimate for the water heater", timedelta(hours=3)),
    (1, "alex", "Confirm the technician's arrival window for Thursday", timedelta(hours=26)),
    (2, "sam", "Call back with the warranty decision", timedelta(hours=5)),
    (3, "alex", "Refund the duplicate charge on the October invoice", timedelta(days=2)),
    (4, "sam", "Order the replacement thermostat and share tracking", timedelta(days=3)),
]

# The rest of the team of eight: username, first and last name, and how reliably they keep promises.
MORE_AGENTS = [
    ("maya", "Maya", "Chen", 0.95),
    ("luis", "Luis", "Ortega", 0.88),
    ("nina", "Nina", "Petrova", 0.9),
    ("owen", "Owen", "Brooks", 0.7),
    ("tara", "Tara", "Singh", 0.92),
    ("ben", "Ben", "Adeyemi", 0.84),
]


class Command(BaseCommand):
    help = "Create a demo team (a lead and eight agents) with twelve weeks of history and a few open commitments."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing (and say so) when there are already users."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if User.objects.exists():
            if options["if_empty"]:
                self.stdout.write("The database already has users: no demo data added.")
                return
            raise CommandError("The database is not empty: seed_demo only fills an empty one.")
        with transaction.atomic():
            self._seed()
        self.stdout.write(
            self.style.SUCCESS(
                "Demo team ready. Log in as lead “jordan”, or agents “alex” and “sam”, "
                f"with the password “{DEMO_PASSWORD}”."
            )
        )

    def _seed(self) -> None:
        team = Team.objects.create(name="Home Services Support", timezone="America/New_York")
        people = {}
        for username, first, last, role in [
            ("jordan", "Jordan", "Price", Membership.Role.LEAD),
            ("alex", "Alex", "Rivera", Membership.Role.AGENT),
            ("sam", "Sam", "Okafor", Membership.Role.AGENT),
            *((username, first, last, Membership.Role.AGENT) for username, first, last, _ in MORE_AGENTS),
        ]:
            user = User.objects.create_user(
                username=username,
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                email=f"{username}@followthrough.example.com",
                is_staff=role == Membership.Role.LEAD,
                is_superuser=role == Membership.Role.LEAD,
            )
            Membership.objects.create(user=user, team=team, role=role)
            people[username] = user
        now = timezone.now()
        # Twelve weeks of the team's past, so the dashboard has something to say on the first run.
        skills = {"alex": 0.93, "sam": 0.78, **{username: skill for username, _, _, skill in MORE_AGENTS}}
        History(team, [Agent(user=people[name], skill=skill) for name, skill in skills.items()], now).build()
        for index, username, summary, due_in in PROMISES:
            name, email, phone, channel, zone = CUSTOMERS[index]
            services.create_commitment(
                actor=people[username],
                customer=services.CustomerDetails(
                    name=name, email=email, phone=phone, preferred_channel=channel, timezone=zone
                ),
                summary=summary,
                details="Logged during the customer's call.",
                due_at=now + due_in,
                external_ref=f"CASE-{1040 + index}",
            )
