from django.urls import path

from . import views

app_name = "collection"
urlpatterns = [
    path("rounds/", views.RoundListView.as_view(), name="round_list"),
    path("rounds/<int:pk>/", views.RoundView.as_view(), name="round"),
    path("values/<int:pk>/", views.ValueView.as_view(), name="value"),
]
