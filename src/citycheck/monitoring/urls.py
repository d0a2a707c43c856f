from django.urls import path

from . import views, views_entry

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
    path("tokens/", views_entry.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views_entry.token_revoke, name="token_revoke"),
    path("enter/", views_entry.enter, name="enter"),
    path("notifications/", views.notifications, name="notifications"),
]
