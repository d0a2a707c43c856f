from django.urls import path
from rest_framework.routers import DefaultRouter

from .views import JobView, ReleaseViewSet, ResultViewSet

router = DefaultRouter()
router.register("releases", ReleaseViewSet)
router.register("results", ResultViewSet)
app_name = "assessment-api"
urlpatterns = [*router.urls, path("jobs/<int:pk>/", JobView.as_view(), name="job-detail")]
