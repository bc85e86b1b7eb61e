from django.urls import path

from commitments.api import coach, views

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("coach/", coach.CoachView.as_view(), name="api-coach"),
    path("commitments/", views.CommitmentListView.as_view(), name="api-commitments"),
    path("commitments/<int:pk>/", views.CommitmentDetailView.as_view(), name="api-commitment"),
    path("commitments/<int:pk>/updates/", views.SendUpdateView.as_view(), name="api-commitment-updates"),
    path("commitments/<int:pk>/reschedule/", views.RescheduleView.as_view(), name="api-commitment-reschedule"),
    path("commitments/<int:pk>/handoff/", views.HandOffView.as_view(), name="api-commitment-handoff"),
    path("commitments/<int:pk>/fulfil/", views.FulfilView.as_view(), name="api-commitment-fulfil"),
    path("commitments/<int:pk>/chased/", views.ChasedView.as_view(), name="api-commitment-chased"),
    path("commitments/<int:pk>/wait/", views.WaitView.as_view(), name="api-commitment-wait"),
    path("commitments/<int:pk>/resume/", views.ResumeView.as_view(), name="api-commitment-resume"),
    path("commitments/<int:pk>/cancel/", views.CancelView.as_view(), name="api-commitment-cancel"),
    path("commitments/<int:pk>/timeline/", views.TimelineView.as_view(), name="api-commitment-timeline"),
]
