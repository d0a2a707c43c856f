from rest_framework.routers import DefaultRouter

router = DefaultRouter()
app_name = "collection-api"
urlpatterns = router.urls
