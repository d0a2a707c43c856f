from django.urls import path

from . import views

app_name = "monitoring"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("places/<str:code>/", views.dashboard, name="place_dashboard"),
    path("warnings/", views.WarningListView.as_view(), name="warning_list"),
    path("warnings/<int:pk>/", views.WarningView.as_view(), name="warning"),
    path("warnings/publish/", views.publish_month, name="publish_month"),
    path(
        "warnings/<int:pk>/<str:step>/",
        views.warning_step,
        name="warning_step",
    ),
    path("notifications/", views.notifications, name="notifications"),
]
