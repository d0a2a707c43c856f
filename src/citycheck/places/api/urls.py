from rest_framework.routers import DefaultRouter

from .views import PlaceViewSet

router = DefaultRouter()
router.register("places", PlaceViewSet)
app_name = "places-api"
urlpatterns = router.urls
