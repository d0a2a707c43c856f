app_name = "spatial"
urlpatterns: list = []
