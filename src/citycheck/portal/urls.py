from django.urls import path

from citycheck.core.public_pages import public_page

from . import cases, life_circle, satisfaction, views, warnings

app_name = "portal"
urlpatterns = [
    # The index is answered to anonymous visitors from the public pages' cache.
    path("", public_page(views.index), name="index"),
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
