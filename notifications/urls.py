"""Webhooks called by the services we send through (under /hooks/)."""

from django.urls import URLPattern, path

from notifications import delivery_receipts, inbound

app_name = "hooks"
urlpatterns: list[URLPattern] = [
    path("sms/twilio/", inbound.twilio_sms, name="twilio_sms"),
    path("sms/twilio/status/", delivery_receipts.twilio_status, name="twilio_status"),
]
