from django.urls import path

from . import views

app_name = "spatial"
urlpatterns = [
    path("", views.index, name="index"),
    path("import/", views.import_data, name="import"),
    path("datasets/<int:pk>/", views.dataset_detail, name="dataset"),
    path("datasets/<int:pk>/run/", views.run, name="run"),
    path("analyses/<int:pk>/", views.analysis_detail, name="analysis"),
    path("analyses/<int:pk>/accept/", views.accept, name="accept"),
    path("analyses/<int:pk>/export.<str:fmt>", views.export, name="export"),
]
