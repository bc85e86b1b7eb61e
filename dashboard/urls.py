from django.urls import path

from dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.dashboard, name="page"),
    path("figures.csv", views.export_figures, name="figures_csv"),
    path("trends.csv", views.export_trends, name="trends_csv"),
    path("<slug:key>.csv", views.export_list, name="list_csv"),
]
