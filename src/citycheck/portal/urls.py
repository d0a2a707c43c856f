from django.urls import path

from . import cases, life_circle, satisfaction, views, warnings

app_name = "portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("method/", views.method, name="method"),
    path("satisfaction/", satisfaction.satisfaction, name="satisfaction"),
    path("cases/", cases.case_list, name="cases"),
    path("cases/<int:pk>/", cases.case, name="case"),
    path("places/<str:code>/", views.place, name="place"),
    path("life-circle/", life_circle.life_circle_list, name="life_circle_list"),
    path("life-circle/<int:pk>/", life_circle.life_circle, name="life_circle"),
    path("warnings/", warnings.warning_list, name="warnings"),
    path("reports/<int:pk>/<str:code>.<str:fmt>", views.download, name="download"),
]
