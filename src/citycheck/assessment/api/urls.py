from rest_framework.routers import DefaultRouter

router = DefaultRouter()
app_name = "assessment-api"
urlpatterns = router.urls
