"""Factories for staff and teams; commitments are made through the service, as the app makes them."""

from datetime import timedelta

import factory
from django.utils import timezone

from accounts.models import Membership, Team, User
from commitments import services
from commitments.models import Commitment

PASSWORD = "a-strong-test-password"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"agent{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@staff.example.com")
    password = factory.django.Password(PASSWORD)


class TeamFactory(factory.django.DjangoModelFactory[Team]):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Support team {n}")
    timezone = "UTC"
    # Around the clock by default, so tests that are not about working hours are not held by them.
    workday_starts = "00:00"
    workday_ends = "23:59:59"
    working_days = "1,2,3,4,5,6,7"


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    role = Membership.Role.AGENT


def customer_details(**overrides: object) -> services.CustomerDetails:
    values: dict = {
        "name": "Dana Whitfield",
        "email": "dana@example.com",
        "phone": "+12025550123",
        "preferred_channel": "email",
        "timezone": "America/New_York",
    }
    values.update(overrides)
    return services.CustomerDetails(**values)


def make_commitment(*, actor: User, **overrides: object) -> Commitment:
    """A commitment logged through the service, as an agent would log it."""
    customer = overrides.pop("customer", None) or customer_details()
    values: dict = {
        "summary": "Send the repair estimate",
        "details": "Estimate for the water heater replacement.",
        "due_at": timezone.now() + timedelta(days=2),
    }
    values.update(overrides)
    return services.create_commitment(actor=actor, customer=customer, **values)  # type: ignore[arg-type]
