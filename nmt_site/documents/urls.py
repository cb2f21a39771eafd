from django.urls import path

from . import views

urlpatterns = [
    path("documents/", views.upload_page, name="documents"),
    path("api/documents", views.upload_api, name="document-upload"),
    path("api/documents/list", views.list_api, name="document-list"),
    path("api/documents/<str:job_id>", views.status_api, name="document-status"),
    path("api/documents/<str:job_id>/cancel", views.cancel_api, name="document-cancel"),
    path("api/documents/<str:job_id>/download", views.download_api, name="document-download"),
]
