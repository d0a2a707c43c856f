from rest_framework.routers import DefaultRouter

from .views import RevisionRequestViewSet, RoundViewSet, SubmissionViewSet, ValueViewSet

router = DefaultRouter()
router.register("rounds", RoundViewSet)
router.register("submissions", SubmissionViewSet)
router.register("values", ValueViewSet)
router.register("revisions", RevisionRequestViewSet)
app_name = "collection-api"
urlpatterns = router.urls
