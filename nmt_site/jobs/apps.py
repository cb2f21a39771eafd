from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "nmt_site.jobs"
    label = "jobs"
    verbose_name = "Translation jobs"
