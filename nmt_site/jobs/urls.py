from django.urls import path

from . import views

urlpatterns = [
    path("", views.translate_page, name="translate"),
    path("api/translators", views.translators_api, name="translators"),
    path("api/jobs", views.create_job_api, name="job-create"),
    path("api/jobs/<str:job_id>", views.job_status_api, name="job-status"),
    path("api/jobs/<str:job_id>/result", views.job_result_api, name="job-result"),
    path("api/jobs/<str:job_id>/cancel", views.cancel_job_api, name="job-cancel"),
    path("health", views.health, name="health"),
]
