from rest_framework.routers import SimpleRouter

from .views import ResponseViewSet, ScoreViewSet, SurveyViewSet

app_name = "survey-api"
router = SimpleRouter()
router.register("surveys", SurveyViewSet, basename="survey")
router.register("scores", ScoreViewSet, basename="score")
router.register("responses", ResponseViewSet, basename="response")
urlpatterns = router.urls
