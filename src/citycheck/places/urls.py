from django.urls import path

from . import views

app_name = "places"
urlpatterns = [
    path("", views.PlaceListView.as_view(), name="place_list"),
    path("<str:code>/", views.PlaceView.as_view(), name="place"),
]
