from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from dashboard.aggregates import add_median_to_sqlite

        connection_created.connect(add_median_to_sqlite, dispatch_uid="dashboard.median")
