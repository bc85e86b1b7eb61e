from django.urls import path

from commitments import views

app_name = "commitments"
urlpatterns = [
    path("", views.my_commitments, name="mine"),
    path("commitments/<int:pk>/", views.commitment_detail, name="detail"),
]
