app_name = "spatial-api"
urlpatterns: list = []
