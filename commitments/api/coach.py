"""``POST /api/v1/coach/``: the update coach's advice on a draft, for any tool that writes to customers.

The same coach the composer shows as the agent types (``commitments.coach``). With a commitment,
it knows the customer's language, the team's glossary and the cadence the next contact must keep;
without one, every language's phrases and the caller's teams' glossaries.
"""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from commitments import coach, composer, selectors
from commitments.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, replay_or_run
from commitments.api.serializers import TEXT_LIMIT
from commitments.models import Channel
from followthrough.api import errors
from followthrough.api.parsers import JsonBodyParser

ENCODINGS = ("GSM-7", "UCS-2")


class DraftField(serializers.CharField):
    """The draft as written: a JSON string, never a number turned into one."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class CoachRequestSerializer(serializers.Serializer):
    text = DraftField(
        max_length=TEXT_LIMIT, allow_blank=True, trim_whitespace=False, help_text="The draft update, as written."
    )
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        help_text="The channel it will go by (the customer's preferred one when a commitment is given).",
    )
    commitment = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Id of the commitment it is for: its customer's language, its team's glossary and its "
        "update cadence are then used.",
    )
    language = serializers.ChoiceField(
        choices=[(code, code) for code in coach.LANGUAGES],
        required=False,
        help_text="The language to coach in; by default the customer's, or every language the coach knows.",
    )


class CoachWarningSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[(kind, kind) for kind in coach.KINDS], help_text="What kind of advice.")
    text = serializers.CharField(help_text="The words flagged, exactly as in the draft (text[start:end]).")
    start = serializers.IntegerField(help_text="Character offset in the draft where the flagged words start.")
    end = serializers.IntegerField(help_text="Character offset in the draft just after the flagged words.")
    suggestion = serializers.CharField(help_text="What to write instead, in plain words.")


class CoachAdviceSerializer(serializers.Serializer):
    warnings = CoachWarningSerializer(many=True, help_text="The advice, in the order of the draft; empty when plain.")
    sms_segments = serializers.IntegerField(help_text="SMS segments the draft takes as a text message.")
    encoding = serializers.ChoiceField(
        choices=[(name, name) for name in ENCODINGS],
        help_text="GSM-7, or UCS-2 when a character is outside the GSM-7 alphabet (shorter segments).",
    )


@extend_schema_view(
    post=extend_schema(
        tags=["coach"],
        operation_id="coach_advise",
        summary="Coach a draft update",
        description=(
            "Flags hedging, conditional or blaming apologies, the team's jargon (with the plain word), a missing "
            "next contact and a next contact later than the commitment's cadence allows. Advice only: nothing is "
            "sent or stored. `start`/`end` are character offsets of the flagged words in `text`."
        ),
        request=CoachRequestSerializer,
        responses={
            200: CoachAdviceSerializer,
            400: errors.BAD_REQUEST,
            401: errors.UNAUTHORIZED,
            415: errors.NOT_JSON,
            422: errors.KEY_REUSED,
            429: errors.THROTTLED,
        },
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
)
class CoachView(APIView):
    parser_classes = [JsonBodyParser]

    def post(self, request: Request) -> Response:
        return replay_or_run(request, lambda: self._advise(request))

    def _advise(self, request: Request) -> Response:
        body = CoachRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data: dict[str, Any] = body.validated_data
        user = request.user
        now = timezone.now()
        commitment = None
        if data.get("commitment") is not None:
            commitment = selectors.visible_commitments(user=user).filter(pk=data["commitment"]).first()  # type: ignore[arg-type]
            if commitment is None:
                raise serializers.ValidationError({"commitment": ["No such commitment in your teams."]})
        text: str = data["text"]
        if commitment is not None:
            advice = coach.coach(
                text,
                language=data.get("language") or composer.customer_language(commitment),
                glossary=composer.glossary_of([commitment.team_id]),
                next_contact_by=composer.cadence_limit(commitment, now=now),
                zone=commitment.customer.zone,
                now=now,
            )
        else:
            team_ids = list(selectors.teams_of(user=user).values_list("pk", flat=True))  # type: ignore[arg-type]
            advice = coach.coach(text, language=data.get("language"), glossary=composer.glossary_of(team_ids), now=now)
        return Response(
            {
                "warnings": [
                    {
                        "kind": warning.kind,
                        "text": warning.text,
                        "start": warning.start,
                        "end": warning.end,
                        "suggestion": warning.suggestion,
                    }
                    for warning in advice.warnings
                ],
                "sms_segments": advice.sms_segments,
                "encoding": advice.encoding,
            }
        )
