"""The lead's dashboard lists (overdue, missed, at risk, reopened) read a team's commitments of the
statuses they ask for from ``commitment_team_status_due`` alone: it now also carries the owner (the
lists are grouped by owner). Before, each of them read all of the team's entries in
``commitment_team_figures`` (about 50,000 for a team at a million commitments) to keep the few it
lists. The index was there already (the team list's): widening it costs a sweep's UPDATE about
what its 8 more bytes an entry weigh, where a new index would be one more write for every row moved.

The wider index is built beside the old one, which is then dropped and the new one given its name,
all without holding up writes (followthrough.index_operations): the team list always has one.
"""

from django.db import migrations, models

from followthrough.index_operations import AddIndexWithoutLock, RemoveIndexWithoutLock


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("commitments", "0018_no_index_on_who_logged_a_commitment")]

    operations = [
        AddIndexWithoutLock(
            model_name="commitment",
            index=models.Index(
                fields=["team", "status", "due_at"],
                include=("next_update_at", "temperature", "id", "owner"),
                name="commitment_team_status_due_owner",
            ),
        ),
        RemoveIndexWithoutLock(model_name="commitment", name="commitment_team_status_due"),
        migrations.RenameIndex(
            model_name="commitment",
            old_name="commitment_team_status_due_owner",
            new_name="commitment_team_status_due",
        ),
    ]
