from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from citycheck.collection.home import home
from citycheck.core.views import healthz, job_detail, job_progress


def favicon(request):
    """Browsers ask for /favicon.ico on pages without the layout (report files, errors)."""
    return HttpResponsePermanentRedirect(static("core/favicon.svg"))


api_patterns = [
    path("places/", include("citycheck.places.api.urls")),
    path("indicators/", include("citycheck.indicators.api.urls")),
    path("collection/", include("citycheck.collection.api.urls")),
    path("assessment/", include("citycheck.assessment.api.urls")),
    path("diagnosis/", include("citycheck.diagnosis.api.urls")),
    path("renewal/", include("citycheck.renewal.api.urls")),
    path("survey/", include("citycheck.survey.api.urls")),
    path("spatial/", include("citycheck.spatial.api.urls")),
    path("monitoring/", include("citycheck.monitoring.api.urls")),
    path("supervision/", include("citycheck.supervision.api.urls")),
    path("portal/", include("citycheck.portal.api.urls")),
    path("exchange/", include("citycheck.exchange.api.urls")),
    path("auth/", include("citycheck.core.api.auth")),
]

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include(api_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("", home, name="home"),
    path("favicon.ico", favicon),
    path("healthz", healthz, name="healthz"),
    path("jobs/<int:pk>/", job_detail, name="job"),
    path("jobs/<int:pk>/progress/", job_progress, name="job_progress"),
    path("accounts/", include("citycheck.accounts.urls")),
    path("places/", include("citycheck.places.urls")),
    path("indicators/", include("citycheck.indicators.urls")),
    path("collection/", include("citycheck.collection.urls")),
    path("assessment/", include("citycheck.assessment.urls")),
    path("diagnosis/", include("citycheck.diagnosis.urls")),
    path("renewal/", include("citycheck.renewal.urls")),
    path("reports/", include("citycheck.reports.urls")),
    path("survey/", include("citycheck.survey.urls")),
    path("spatial/", include("citycheck.spatial.urls")),
    path("monitoring/", include("citycheck.monitoring.urls")),
    path("supervision/", include("citycheck.supervision.urls")),
    path("portal/", include("citycheck.portal.urls")),
    path("exchange/", include("citycheck.exchange.urls")),
]

# Under /api/ a URL that matches nothing answers JSON, like every other API refusal.
handler404 = "citycheck.core.views.not_found"
