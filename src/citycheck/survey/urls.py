from django.urls import path

from . import views

app_name = "survey"
urlpatterns = [
    path("", views.survey_list, name="list"),
    path("open/", views.survey_open, name="open"),
    path("r/<str:token>/", views.public_form, name="public_form"),
    path("r/<str:token>/locate/", views.locate, name="locate"),
    path("<int:pk>/", views.survey_detail, name="detail"),
    path("<int:pk>/close/", views.survey_close, name="close"),
    path("<int:pk>/weight/", views.weight, name="weight"),
    path("<int:pk>/scores/", views.scores, name="scores"),
    path("<int:pk>/comparison/", views.comparison, name="comparison"),
    path("<int:pk>/poster/<str:city>/", views.poster, name="poster"),
    path("<int:pk>/responses/<int:response>/override/", views.override, name="override"),
    path("<int:pk>/interview/", views.interview, name="interview"),
    path("<int:pk>/import/", views.import_responses, name="import"),
]
