from django.urls import path

from . import views

app_name = "renewal"
urlpatterns = [
    path("projects/", views.ProjectListView.as_view(), name="project_list"),
    path("projects/export/", views.project_export, name="project_export"),
    path("projects/import/", views.project_import, name="project_import"),
    path("projects/propose/", views.project_propose, name="project_propose"),
    path("projects/candidates/", views.candidate_list, name="candidate_list"),
    path(
        "projects/from-problem/<int:problem_pk>/",
        views.project_from_problem,
        name="project_from_problem",
    ),
    path("projects/<int:pk>/", views.ProjectView.as_view(), name="project"),
    path("projects/<int:pk>/edit/", views.project_edit, name="project_edit"),
    path("projects/<int:pk>/status/", views.project_status, name="project_status"),
    path("projects/<int:pk>/report/", views.project_report, name="project_report"),
    path("plan/", views.annual_plan, name="annual_plan"),
    path("plan/export/", views.annual_plan_export, name="annual_plan_export"),
    path("progress/", views.progress_board, name="progress_board"),
    path("what-if/", views.what_if, name="what_if"),
    path("effects/", views.effects, name="effects"),
]
