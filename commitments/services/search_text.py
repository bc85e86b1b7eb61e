"""The words a commitment is found by, kept in ``CommitmentSearchText`` beside it.

Written whenever a commitment is logged or its words change, in the caller's transaction, so a
search never finds a commitment by words it no longer has (see the model for why they have a table
of their own).
"""

from commitments.models import Commitment, CommitmentSearchText

SEARCHED_FIELDS = ["summary", "details", "external_ref"]


def keep_searchable(commitments: list[Commitment]) -> None:
    """Write these commitments' words to their search rows, in one statement: new rows, or the words replaced."""
    if not commitments:
        return
    CommitmentSearchText.objects.bulk_create(
        [
            CommitmentSearchText(
                commitment_id=commitment.pk,
                summary=commitment.summary,
                details=commitment.details,
                external_ref=commitment.external_ref,
            )
            for commitment in commitments
        ],
        update_conflicts=True,
        unique_fields=["commitment"],
        update_fields=SEARCHED_FIELDS,
    )
