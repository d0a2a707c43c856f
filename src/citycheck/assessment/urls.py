from django.urls import path

from . import views

app_name = "assessment"
urlpatterns = [
    path("releases/", views.ReleaseListView.as_view(), name="release_list"),
    path("releases/run/", views.release_run, name="release_run"),
    path("releases/diff/", views.release_diff, name="release_diff"),
    path("releases/<int:pk>/", views.ReleaseView.as_view(), name="release"),
    path("releases/<int:pk>/map.json", views.release_map, name="release_map"),
    path("releases/<int:pk>/publish/", views.release_publish, name="release_publish"),
    path("releases/<int:pk>/export.csv", views.release_export, name="release_export"),
    path("releases/<int:pk>/places/<str:code>/", views.release_place, name="release_place"),
]
