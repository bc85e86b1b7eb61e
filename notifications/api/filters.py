import django_filters

from commitments.models import Channel
from followthrough.api.filters import IdFilter
from notifications.models import Audience, DeliveryStatus, MessageKind, Notification


class NotificationFilter(django_filters.FilterSet):
    commitment = IdFilter(field_name="commitment__id", help_text="Commitment id: every message made for it.")
    kind = django_filters.ChoiceFilter(choices=MessageKind.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    audience = django_filters.ChoiceFilter(choices=Audience.choices)
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)

    class Meta:
        model = Notification
        fields = ["commitment", "kind", "channel", "audience", "status"]
