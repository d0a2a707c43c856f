from rest_framework.routers import DefaultRouter

router = DefaultRouter()
app_name = "places-api"
urlpatterns = router.urls
