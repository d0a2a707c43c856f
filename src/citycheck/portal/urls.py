from django.urls import path

from . import cases, views

app_name = "portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("method/", views.method, name="method"),
    path("cases/", cases.case_list, name="cases"),
    path("cases/<int:pk>/", cases.case, name="case"),
    path("places/<str:code>/", views.place, name="place"),
    path("reports/<int:pk>/<str:code>.<str:fmt>", views.download, name="download"),
]
