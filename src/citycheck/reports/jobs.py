"""Background jobs of publication: every report of a release into one archive."""

from django.urls import reverse

from citycheck.assessment.models import Release
from citycheck.core.jobs import job_function

from . import services


@job_function(
    "reports.render_all",
    result_url=lambda result: reverse("reports:archive_download", args=[result["release"]]),
    known_errors=(services.ReportError,),
)
def render_all_job(job, *, release_id: int, formats: list[str], workers: int | None = None):
    """Render every report of the release and return the archive's path under MEDIA_ROOT."""
    release = Release.objects.select_related("round", "scope").get(pk=release_id)

    def progress(done, total, name):
        job.report(100 * done / total * 0.98, f"{done}/{total} {name}")

    path = services.build_archive(release, formats, workers=workers, progress=progress)
    return {"release": release.pk, "archive": str(path), "size": path.stat().st_size}
