"""Twelve weeks of a support team's past for the demo: kept, slipped, missed, chased, reopened, confirmed.

The history is written as it would stand today (commitments with their times, statuses and
timelines), not replayed through the services, which act at the present moment. It is drawn from
a seeded random generator, so every demo database tells the same story: a team that slowly gets
better at keeping its word (fewer chases, more promises on time), with a couple of agents who
still need help, and this morning's share of trouble: a few missed, at risk, reopened and
replies waiting for an answer.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from accounts.models import Team, User
from commitments.models import Channel, Commitment, Customer, Status, TimelineEvent
from commitments.schedule import plan_escalations
from commitments.services.search_text import keep_searchable
from commitments.status_links import issue_status_link

WEEKS = 12
UPDATE_INTERVAL = timedelta(hours=24)

SUMMARIES = [
    "Send the revised estimate for the boiler service",
    "Confirm the plumber's arrival window",
    "Refund the call-out fee",
    "Order the replacement part and share tracking",
    "Call back with the warranty decision",
    "Book the follow-up inspection",
    "Send photos of the finished repair",
    "Credit the missed appointment on the next invoice",
    "Check stock of the matching tiles",
    "Email the signed service agreement",
    "Arrange a second quote for the roof",
    "Confirm the insurance paperwork was received",
    "Reschedule the gutter cleaning",
    "Send the maintenance checklist",
    "Find out why the technician did not arrive",
    "Get the electrician's report to the customer",
    "Cancel the duplicate booking and confirm",
    "Send the payment plan options",
    "Chase the supplier for the delivery date",
    "Confirm the new thermostat is covered",
]
FIRST_NAMES = ["Ava", "Ben", "Chloe", "Dev", "Elena", "Femi", "Gus", "Hana", "Ivan", "Jade", "Kofi", "Lena"]
LAST_NAMES = ["Novak", "Osei", "Park", "Quinn", "Rossi", "Sato", "Tran", "Usman", "Vega", "Walsh"]
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
REPLIES = [
    "Is this still happening today?",
    "Can you call me after 5? I'm at work until then.",
    "The technician left but the heating is off again.",
    "Thanks, but I haven't received the email yet.",
]


@dataclass
class Agent:
    """How reliable one agent is: the demo's team has strong and struggling members."""

    user: User
    skill: float  # 0..1: higher keeps more promises and is chased less


def _customers(rng: random.Random, count: int, team: Team) -> list[Customer]:
    customers = []
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        channel = rng.choices([Channel.EMAIL, Channel.SMS, Channel.PHONE], weights=[6, 3, 1])[0]
        customers.append(
            Customer(
                team=team,
                name=f"{first} {last}",
                email=f"{first}.{last}.{index}@example.com".lower(),
                phone=f"+1202555{2000 + index:04d}",
                preferred_channel=channel,
                timezone=rng.choice(ZONES),
            )
        )
    return Customer.objects.bulk_create(customers)


class History:
    """Builds the commitments and their timelines in memory, then writes them in two statements."""

    def __init__(self, team: Team, agents: list[Agent], now: datetime, seed: int = 11) -> None:
        self.team, self.agents, self.now = team, agents, now
        self.rng = random.Random(seed)
        self.rows: list[tuple[Commitment, list[TimelineEvent]]] = []
        self.replies = 0
        self.reopened_recently = False

    def build(self) -> int:
        customers = _customers(self.rng, 140, self.team)
        start = self.now - timedelta(weeks=WEEKS)
        for agent in self.agents:
            moment = start + timedelta(hours=self.rng.uniform(0, 20))
            while moment < self.now - timedelta(hours=6):
                self._one(agent, self.rng.choice(customers), moment)
                moment += timedelta(hours=self.rng.uniform(14, 40))
        commitments = Commitment.objects.bulk_create([commitment for commitment, _ in self.rows])
        keep_searchable(commitments)
        events = []
        for commitment, timeline in zip(commitments, (timeline for _, timeline in self.rows), strict=True):
            for event in timeline:
                event.commitment = commitment
                events.append(event)
        TimelineEvent.objects.bulk_create(events, batch_size=2000)
        return len(commitments)

    def _one(self, agent: Agent, customer: Customer, logged: datetime) -> None:
        rng, now = self.rng, self.now
        # The team improves over the twelve weeks: later weeks keep more promises.
        progress = 1 - (now - logged) / timedelta(weeks=WEEKS)
        reliability = min(0.97, agent.skill * 0.8 + progress * 0.15)
        promised = logged + timedelta(hours=rng.choice([4, 8, 24, 26, 48, 72]))
        commitment = Commitment(
            customer=customer,
            team=self.team,
            owner=agent.user,
            assignee=agent.user,
            created_by=agent.user,
            summary=rng.choice(SUMMARIES),
            details="Promised on the phone.",
            external_ref=f"CASE-{2000 + len(self.rows)}",
            due_at=promised,
            promised_at=promised,
            update_interval=UPDATE_INTERVAL,
            created_at=logged,
            last_update_at=logged,
        )
        issue_status_link(commitment)
        timeline = [self._event(TimelineEvent.Kind.CREATED, logged, agent.user, commitment.summary,
                                {"due_at": promised.isoformat(), "owner": agent.user.username})]  # fmt: skip
        outcome = rng.random()
        moved_at = promised - (promised - logged) * 0.2
        if outcome < reliability:
            done = logged + (promised - logged) * rng.uniform(0.3, 0.98)
        elif outcome < reliability + (1 - reliability) * 0.6 and moved_at < now:
            # Slipped: rescheduled with a reason before the promise was due, then kept late.
            new_due = promised + timedelta(hours=rng.choice([24, 48]))
            timeline.append(self._event(TimelineEvent.Kind.RESCHEDULED, moved_at, agent.user,
                                        "The part is back-ordered.", {"from": promised.isoformat(),
                                                                      "to": new_due.isoformat()}))  # fmt: skip
            commitment.due_at = new_due
            done = moved_at + (new_due - moved_at) * rng.uniform(0.3, 1.2)
        else:
            # Missed: the due time passed; kept a day or two later, or still missed.
            done = promised + timedelta(hours=rng.uniform(6, 60))
        if commitment.due_at < min(done, now):
            timeline.append(self._event(TimelineEvent.Kind.MISSED, commitment.due_at, None, "Not fulfilled in time."))
            commitment.missed_at = commitment.due_at
        if rng.random() < 0.32 - 0.25 * reliability - 0.08 * progress:
            chased_at = logged + (promised - logged) * rng.uniform(0.4, 1.1)
            if chased_at < min(done, now):
                timeline.append(self._event(TimelineEvent.Kind.CHASED, chased_at, agent.user, "They called to ask."))
        self._updates(commitment, timeline, logged, min(done, now), agent)
        if done >= now:
            self._still_open(commitment, timeline)
        else:
            self._fulfilled(commitment, timeline, done, agent)
        timeline.sort(key=lambda event: event.created_at)
        self.rows.append((commitment, timeline))

    def _updates(
        self, commitment: Commitment, timeline: list[TimelineEvent], logged: datetime, until: datetime, agent: Agent
    ) -> None:
        last = logged
        while True:
            gap = UPDATE_INTERVAL
            if self.rng.random() > 0.85 + 0.1 * agent.skill:
                gap += timedelta(hours=self.rng.uniform(2, 20))  # A phone customer's call made late.
            moment = last + gap
            if moment >= until:
                break
            timeline.append(self._event(TimelineEvent.Kind.UPDATE_SENT, moment, None, "Automatic status update.",
                                        {"automatic": True}))  # fmt: skip
            last = moment
        commitment.last_update_at = last
        commitment.next_update_at = last + UPDATE_INTERVAL

    def _still_open(self, commitment: Commitment, timeline: list[TimelineEvent]) -> None:
        now = self.now
        if commitment.due_at <= now:
            commitment.status = Status.MISSED
            commitment.escalations_sent = 2
        else:
            commitment.status = Status.OPEN
            commitment.missed_at = None
            plan_escalations(commitment, now=now)
        commitment.next_update_at = max(commitment.next_update_at or now, now + timedelta(hours=2))
        # This morning's business includes a few customers waiting for an answer.
        if self.replies < 3 or self.rng.random() < 0.3:
            self.replies += 1
            reply_at = commitment.created_at + (now - commitment.created_at) * self.rng.uniform(0.6, 0.95)
            reply = self._event(
                TimelineEvent.Kind.CUSTOMER_REPLY,
                reply_at,
                None,
                self.rng.choice(REPLIES),
                {"via": "sms"},
                label="customer",
            )
            timeline.append(reply)

    def _fulfilled(self, commitment: Commitment, timeline: list[TimelineEvent], done: datetime, agent: Agent) -> None:
        rng, now = self.rng, self.now
        commitment.fulfilled_at = done
        commitment.resolution = "Done, as promised."
        commitment.next_update_at = None
        timeline.append(self._event(TimelineEvent.Kind.FULFILLED, done, agent.user, "Done.",
                                    {"on_time": done <= commitment.due_at}))  # fmt: skip
        answered = done + timedelta(hours=rng.uniform(20, 40))
        if answered >= now:
            commitment.status = Status.FULFILLED
            commitment.satisfaction_due_at = max(answered, now + timedelta(hours=1))
            return
        answer = rng.random()
        # One recent "no, still a problem" at least, so this morning has a reopened promise too.
        reopen_now = not self.reopened_recently and answered > now - timedelta(days=2)
        if reopen_now or answer < 0.06 + 0.06 * (1 - agent.skill):
            timeline.append(self._event(TimelineEvent.Kind.REOPENED, answered, None, "Still a problem.",
                                        label="customer"))  # fmt: skip
            if answered > now - timedelta(days=2):
                self.reopened_recently = True
                commitment.status = Status.REOPENED
                commitment.due_at = answered + UPDATE_INTERVAL
                commitment.next_update_at = now + timedelta(hours=3)
                plan_escalations(commitment, now=now)
                if commitment.due_at <= now:
                    commitment.due_at = now + timedelta(hours=3)
                    plan_escalations(commitment, now=now)
                return
            again = answered + timedelta(hours=rng.uniform(4, 30))
            commitment.fulfilled_at = again
            timeline.append(self._event(TimelineEvent.Kind.FULFILLED, again, agent.user, "Fixed for good."))
            commitment.status = Status.FULFILLED
        elif answer < 0.75:
            commitment.status = Status.CONFIRMED
            commitment.confirmed_at = answered
            timeline.append(self._event(TimelineEvent.Kind.CONFIRMED, answered, None, "", label="customer"))
        else:
            commitment.status = Status.FULFILLED  # Asked; the customer never answered.

    def _event(
        self,
        kind: str,
        at: datetime,
        actor: User | None,
        message: str,
        data: dict[str, object] | None = None,
        *,
        label: str = "",
    ) -> TimelineEvent:
        return TimelineEvent(
            kind=kind,
            created_at=at,
            actor=actor,
            actor_label=label or ("" if actor else "system"),
            message=message,
            data=data or {},
        )
