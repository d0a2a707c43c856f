from django.urls import path

from . import views

app_name = "indicators"
urlpatterns = [
    path(
        "indicator-systems/", views.IndicatorSystemListView.as_view(), name="indicatorsystem_list"
    ),
    path("indicator-systems/import/", views.system_import, name="system_import"),
    path(
        "indicator-systems/<int:pk>/", views.IndicatorSystemView.as_view(), name="indicatorsystem"
    ),
    path("indicators/<int:pk>/", views.IndicatorView.as_view(), name="indicator"),
]
