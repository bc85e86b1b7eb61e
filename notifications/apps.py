from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        # anymail hands inbound mail and delivery events out through its signals; these are
        # the only receivers (see notifications/inbound_email.py).
        from anymail.signals import inbound, tracking

        from notifications import inbound_email

        inbound.connect(inbound_email.on_inbound, dispatch_uid="followthrough-inbound-email")
        tracking.connect(inbound_email.on_tracking, dispatch_uid="followthrough-delivery-events")

        from notifications import checks  # noqa: F401  (registers the delivery checks)
