from rest_framework.routers import DefaultRouter

from .views import AnalysisViewSet, AreaResultViewSet

router = DefaultRouter()
router.register("analyses", AnalysisViewSet)
router.register("results", AreaResultViewSet, basename="result")
app_name = "spatial-api"
urlpatterns = router.urls
