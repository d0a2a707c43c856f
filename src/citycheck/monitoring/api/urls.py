from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ObservationBatchView, WarningViewSet

app_name = "monitoring-api"
router = SimpleRouter()
router.register("warnings", WarningViewSet, basename="warning")
urlpatterns = [
    path("observations/batches/", ObservationBatchView.as_view(), name="observation-batch"),
    *router.urls,
]
