app_name = "survey-api"
urlpatterns: list = []
