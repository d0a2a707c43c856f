from django.urls import path
from rest_framework.routers import DefaultRouter

from .views import ProgressBoardView, ProgressReportViewSet, RenewalProjectViewSet

router = DefaultRouter()
router.register("projects", RenewalProjectViewSet)
router.register("progress-reports", ProgressReportViewSet)
app_name = "renewal-api"
urlpatterns = [
    *router.urls,
    path("progress-board/", ProgressBoardView.as_view(), name="progress-board"),
]
