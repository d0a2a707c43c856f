from django.urls import path
from rest_framework.routers import DefaultRouter

from .views import (
    EffectsView,
    ProgressBoardView,
    ProgressReportViewSet,
    RenewalProjectViewSet,
    WhatIfView,
)

router = DefaultRouter()
router.register("projects", RenewalProjectViewSet)
router.register("progress-reports", ProgressReportViewSet)
app_name = "renewal-api"
urlpatterns = [
    *router.urls,
    path("progress-board/", ProgressBoardView.as_view(), name="progress-board"),
    path("effects/", EffectsView.as_view(), name="effects"),
    path("what-if/", WhatIfView.as_view(), name="what-if"),
]
