from django.urls import include, path

urlpatterns = [
    path("", include("nmt_site.jobs.urls")),
    path("", include("nmt_site.dashboard.urls")),
    path("", include("nmt_site.documents.urls")),
    path("", include("nmt_site.api.urls")),
]
