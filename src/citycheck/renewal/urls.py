from django.urls import path

from . import views

app_name = "renewal"
urlpatterns = [
    path("projects/", views.ProjectListView.as_view(), name="project_list"),
    path("projects/propose/", views.project_propose, name="project_propose"),
    path("projects/<int:pk>/", views.ProjectView.as_view(), name="project"),
    path("projects/<int:pk>/status/", views.project_status, name="project_status"),
    path("projects/<int:pk>/report/", views.project_report, name="project_report"),
    path("progress/", views.progress_board, name="progress_board"),
]
