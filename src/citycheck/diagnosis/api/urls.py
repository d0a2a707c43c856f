from rest_framework.routers import DefaultRouter

from .views import ProblemViewSet

router = DefaultRouter()
router.register("problems", ProblemViewSet)
app_name = "diagnosis-api"
urlpatterns = router.urls
