"""The words a commitment is found by, kept in ``CommitmentSearchText`` beside it.

Written whenever a commitment is logged or its words change, in the caller's transaction, so a
search never finds a commitment by words it no longer has (see the model for why they have a table
of their own).
"""

from django.db import connection

from commitments.models import Commitment, CommitmentSearchText
from followthrough.kept_statements import insert

SEARCHED_FIELDS = ["summary", "details", "external_ref"]


def keep_searchable(commitments: list[Commitment]) -> None:
    """Write these commitments' words to their search rows, in one statement: new rows, or the words replaced."""
    if not commitments:
        return
    rows = [
        CommitmentSearchText(
            commitment_id=commitment.pk,
            summary=commitment.summary,
            details=commitment.details,
            external_ref=commitment.external_ref,
        )
        for commitment in commitments
    ]
    if len(rows) == 1:  # Logging or editing one promise: the kept statement, not the ORM's writing.
        insert(rows[0], or_replace=tuple(SEARCHED_FIELDS))
        return
    CommitmentSearchText.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["commitment"], update_fields=SEARCHED_FIELDS
    )


def mend_search_words() -> int:
    """Give every commitment that has no search row its words; answer how many.

    While a release rolls out, the previous one's processes go on logging promises after
    ``migrate`` has copied the words once, and they do not know this table: without this, such a
    commitment would never be found by its words. Housekeeping runs it every hour (at a million
    commitments, about a second and a half; nothing changes when every row is there).
    """
    search = CommitmentSearchText._meta.db_table
    commitments = Commitment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {search} (commitment_id, summary, details, external_ref) "  # noqa: S608 - table names
            f"SELECT c.id, c.summary, c.details, c.external_ref FROM {commitments} c "
            f"WHERE NOT EXISTS (SELECT 1 FROM {search} s WHERE s.commitment_id = c.id) "
            "ON CONFLICT (commitment_id) DO NOTHING"
        )
        return max(cursor.rowcount, 0)
