from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "nmt_site.documents"
    label = "documents"
    verbose_name = "Document translation"
