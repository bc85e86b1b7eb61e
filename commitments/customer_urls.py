"""The customer's side: /s/<token>/ status pages (no login)."""

from django.urls import path

from commitments import customer_views

app_name = "customer"
urlpatterns = [
    path("<str:token>/", customer_views.status_page, name="status"),
]
