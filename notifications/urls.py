"""Webhooks called by the services we send through (under /hooks/)."""

from django.urls import URLPattern, path

from notifications import inbound

app_name = "hooks"
urlpatterns: list[URLPattern] = [
    path("sms/twilio/", inbound.twilio_sms, name="twilio_sms"),
]
