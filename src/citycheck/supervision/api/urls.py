from rest_framework.routers import DefaultRouter

from .views import (
    AppraisalScoreViewSet,
    AppraisalTotalViewSet,
    CaseViewSet,
    DispatchReportViewSet,
    LocalPlanViewSet,
)

router = DefaultRouter()
router.register("plans", LocalPlanViewSet)
router.register("dispatch-reports", DispatchReportViewSet)
router.register("appraisal-scores", AppraisalScoreViewSet)
router.register("appraisal-totals", AppraisalTotalViewSet)
router.register("cases", CaseViewSet)
app_name = "supervision-api"
urlpatterns = router.urls
