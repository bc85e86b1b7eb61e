"""The customer's side: /s/<token>/ pages and actions, no login; the token is the only key."""

from django.urls import path

from commitments.customer import views as customer_views

app_name = "customer"
urlpatterns = [
    # Links of one purpose each (their tokens open nothing else), before the status link's routes.
    path("contact/<str:token>/", customer_views.confirm_contact, name="confirm_contact"),
    path("<str:token>/", customer_views.status_page, name="status"),
    path("<str:token>/resolved/", customer_views.confirm_resolved, name="confirm"),
    path("<str:token>/not-resolved/", customer_views.not_resolved, name="reopen"),
    path("<str:token>/answer/", customer_views.answer_request, name="answer"),
    path("<str:token>/preferences/", customer_views.preferences, name="preferences"),
    path("<str:token>/unsubscribe/", customer_views.unsubscribe, name="unsubscribe"),
]
