from rest_framework.routers import DefaultRouter

router = DefaultRouter()
app_name = "indicators-api"
urlpatterns = router.urls
