from django.urls import path

from . import views, views_cases

app_name = "supervision"
urlpatterns = [
    path("", views.index, name="index"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/<str:code>/", views.plan, name="plan"),
    path("dispatch/", views.dispatch_list, name="dispatch_list"),
    path("dispatch/<int:year>/<int:month>/", views.dispatch_board, name="dispatch_board"),
    path("dispatch/<int:year>/<int:month>/export/", views.dispatch_export, name="dispatch_export"),
    path(
        "dispatch/<int:year>/<int:month>/<str:action>/do/",
        views.dispatch_action,
        name="dispatch_action",
    ),
    path(
        "dispatch/<int:year>/<int:month>/<str:code>/", views.dispatch_report, name="dispatch_report"
    ),
    path("bulletins/", views.bulletin_list, name="bulletin_list"),
    path("bulletins/<int:pk>/", views.bulletin, name="bulletin"),
    path("bulletins/<int:pk>/<str:fmt>/", views.bulletin_file, name="bulletin_file"),
    path("cases/", views_cases.case_list, name="case_list"),
    path("cases/new/", views_cases.case_new, name="case_new"),
    path("cases/<int:pk>/", views_cases.case, name="case"),
    path("cases/<int:pk>/files/<int:file_pk>/", views_cases.case_file, name="case_file"),
    path("tasks/", views.province_tasks, name="province_tasks"),
    path("appraisals/", views.appraisal_list, name="appraisal_list"),
    path("appraisals/<int:pk>/", views.appraisal, name="appraisal"),
    path("appraisals/<int:pk>/file/<str:fmt>/", views.appraisal_file, name="appraisal_file"),
    path("appraisals/<int:pk>/<str:code>/", views.appraisal_place, name="appraisal_place"),
]
