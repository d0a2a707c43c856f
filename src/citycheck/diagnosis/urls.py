from django.urls import path

from . import views

app_name = "diagnosis"
urlpatterns = [
    path("problems/", views.ProblemListView.as_view(), name="problem_list"),
    path("problems/export/", views.problem_export, name="problem_export"),
    path("problems/run/", views.diagnosis_run, name="diagnosis_run"),
    path("problems/<int:pk>/", views.ProblemView.as_view(), name="problem"),
    path("problems/<int:pk>/review/", views.problem_review, name="problem_review"),
    path("recheck/", views.recheck, name="recheck"),
    path("recheck/run/", views.recheck_run, name="recheck_run"),
]
