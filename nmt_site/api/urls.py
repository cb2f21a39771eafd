from django.urls import path

from . import views

urlpatterns = [
    path("translate", views.translate, name="lt-translate"),
    path("detect", views.detect, name="lt-detect"),
    path("languages", views.languages, name="lt-languages"),
    path("frontend/settings", views.frontend_settings, name="lt-frontend-settings"),
    path("translate_file", views.translate_file, name="lt-translate-file"),
    path("download_file/<str:job_id>/<str:filename>", views.download_file, name="lt-download-file"),
    path("api/openapi.json", views.openapi_document, name="openapi"),
    path("metrics", views.metrics_view, name="metrics"),
]
