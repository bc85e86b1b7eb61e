from rest_framework import serializers

from accounts.models import Membership, Team


class TeamMemberSerializer(serializers.ModelSerializer[Membership]):
    id = serializers.IntegerField(source="user_id", read_only=True, help_text="The member's user id.")
    username = serializers.CharField(source="user.username", read_only=True, help_text="Their login name.")
    name = serializers.CharField(source="user.display_name", read_only=True, help_text="Full name, else username.")

    class Meta:
        model = Membership
        fields = ["id", "username", "name", "role"]
        read_only_fields = fields
        extra_kwargs = {"role": {"help_text": "A lead may act on every commitment of the team."}}


class TeamSerializer(serializers.ModelSerializer[Team]):
    members = TeamMemberSerializer(
        source="memberships", many=True, read_only=True, help_text="Active members, by username."
    )

    class Meta:
        model = Team
        fields = ["id", "name", "timezone", "members"]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "The team's id."},
            "name": {"help_text": "The team's name."},
            "timezone": {"help_text": "IANA time zone of the team's working hours."},
        }
