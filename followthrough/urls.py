from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("", include("notifications.operator_urls")),  # /healthz, /readyz, /metrics, /admin/delivery/
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include("followthrough.api_urls")),
    path("s/", include("commitments.customer.urls")),
    path("hooks/", include("notifications.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("", include("commitments.urls")),
]
