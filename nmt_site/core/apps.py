from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "nmt_site.core"
    label = "core"
