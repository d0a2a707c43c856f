from django.urls import path

from .views import PlaceView, RankingView

app_name = "portal-api"
urlpatterns = [
    path("rankings/", RankingView.as_view(), name="ranking"),
    path("places/<str:code>/", PlaceView.as_view(), name="place"),
]
