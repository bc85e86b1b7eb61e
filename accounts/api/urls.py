from django.urls import path

from accounts.api import views

urlpatterns = [
    path("teams/", views.TeamListView.as_view(), name="api-teams"),
]
