from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.report_list, name="report_list"),
    path("bulletin/", views.bulletin, name="bulletin"),
    path("dashboard/", views.province_dashboard, name="province_dashboard"),
    path("dashboard/<str:code>/", views.city_dashboard, name="city_dashboard"),
    path("releases/<int:pk>/map/<str:code>.json", views.dashboard_map, name="dashboard_map"),
    path("releases/<int:pk>/places/<str:code>/", views.report_view, name="report"),
    path(
        "releases/<int:pk>/places/<str:code>/report.<str:fmt>",
        views.report_download,
        name="report_download",
    ),
    path("releases/<int:pk>/places/<str:code>/readings/", views.reading_edit, name="reading_edit"),
    path("releases/<int:pk>/archive/", views.archive_start, name="archive_start"),
    path("releases/<int:pk>/archive.zip", views.archive_download, name="archive_download"),
]
