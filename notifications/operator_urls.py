"""Operators' endpoints: liveness, readiness, Prometheus metrics, and the admin's Delivery page."""

from django.urls import URLPattern, path

from notifications import operator_views

urlpatterns: list[URLPattern] = [
    path("healthz", operator_views.healthz, name="healthz"),
    path("readyz", operator_views.readyz, name="readyz"),
    path("metrics", operator_views.metrics, name="metrics"),
    path("admin/delivery/", operator_views.delivery_page, name="operator-delivery"),
]
