from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "nmt_site.api"
    label = "api"
    verbose_name = "Public API"
