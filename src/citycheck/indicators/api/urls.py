from rest_framework.routers import DefaultRouter

from .views import DimensionViewSet, IndicatorSystemViewSet, IndicatorViewSet

router = DefaultRouter()
router.register("indicator-systems", IndicatorSystemViewSet)
router.register("dimensions", DimensionViewSet)
router.register("indicators", IndicatorViewSet)
app_name = "indicators-api"
urlpatterns = router.urls
