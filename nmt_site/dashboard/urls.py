from django.urls import path

from . import views

urlpatterns = [
    path("dashboard/", views.overview, name="dashboard"),
    path("dashboard/runs/<str:run_id>/", views.run_page, name="bench-run"),
    path("dashboard/runs/<str:run_id>/segments", views.segments_page, name="bench-segments"),
    path("dashboard/runs/<str:run_id>/export/<str:table>.<str:fmt>", views.export_run_table, name="bench-export"),
    path("dashboard/compare", views.compare_page, name="bench-compare"),
    path("dashboard/compare/export.<str:fmt>", views.export_compare, name="bench-compare-export"),
    path("dashboard/export/runs.<str:fmt>", views.export_runs, name="bench-runs-export"),
    path("api/benchmarks", views.runs_api, name="bench-api"),
    path("api/benchmarks/<str:run_id>", views.run_api, name="bench-api-run"),
    path("api/benchmarks/<str:run_id>/cancel", views.cancel_api, name="bench-api-cancel"),
]
