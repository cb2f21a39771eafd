from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "nmt_site.dashboard"
    label = "dashboard"
    verbose_name = "Quality/speed dashboard"
