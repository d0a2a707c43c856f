app_name = "supervision-api"
urlpatterns: list = []
