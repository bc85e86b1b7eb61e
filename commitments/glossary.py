"""The team's glossary: its own jargon, and the plain words the coach suggests instead.

Leads edit it (a superuser too); every member's drafts are coached against it.
"""

from django.db import IntegrityError, transaction

from accounts.models import Membership, Team, User
from commitments.errors import InvalidInput, NotAllowed
from commitments.models import GlossaryTerm


def can_edit(*, user: User, team: Team) -> bool:
    return user.is_superuser or Membership.objects.filter(user=user, team=team, role=Membership.Role.LEAD).exists()


def terms_of(*, team: Team) -> list[GlossaryTerm]:
    return list(GlossaryTerm.objects.filter(team=team).order_by("term"))


@transaction.atomic
def save_term(*, actor: User, team: Team, term: str, plain: str) -> GlossaryTerm:
    """Add a term, or give a known one new plain words (terms are matched without regard to case)."""
    if not can_edit(user=actor, team=team):
        raise NotAllowed("Only a lead of this team can change its glossary.")
    term, plain = " ".join((term or "").split()), " ".join((plain or "").split())
    errors: dict[str, list[str]] = {}
    if not term:
        errors["term"] = ["Write the jargon word or phrase."]
    elif len(term) > 80:
        errors["term"] = ["Keep this under 80 characters."]
    if not plain:
        errors["plain"] = ["Write the plain words to use instead."]
    elif len(plain) > 200:
        errors["plain"] = ["Keep this under 200 characters."]
    if errors:
        raise InvalidInput(errors)
    entry = GlossaryTerm.objects.filter(team=team, term__iexact=term).first()
    if entry is not None:
        entry.term, entry.plain = term, plain
        entry.save(update_fields=["term", "plain"])
        return entry
    try:
        with transaction.atomic():
            return GlossaryTerm.objects.create(team=team, term=term, plain=plain)
    except IntegrityError as error:  # The same term added at the same moment by someone else.
        raise InvalidInput({"term": ["This term is already in the glossary."]}) from error


@transaction.atomic
def remove_term(*, actor: User, team: Team, term_id: int) -> None:
    if not can_edit(user=actor, team=team):
        raise NotAllowed("Only a lead of this team can change its glossary.")
    GlossaryTerm.objects.filter(team=team, pk=term_id).delete()
