"""Webhooks called by the services we send through (under /hooks/)."""

from django.urls import URLPattern, path

from notifications import delivery_receipts, inbound, inbound_email

app_name = "hooks"
urlpatterns: list[URLPattern] = [
    path("sms/twilio/", inbound.twilio_sms, name="twilio_sms"),
    path("email/mailgun/inbound/", inbound_email.mailgun_inbound, name="mailgun_inbound"),
    path("email/mailgun/tracking/", inbound_email.mailgun_tracking, name="mailgun_tracking"),
    path("sms/twilio/status/", delivery_receipts.twilio_status, name="twilio_status"),
]
