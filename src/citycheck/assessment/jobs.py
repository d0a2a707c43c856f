"""Background jobs of the evaluation step."""

from django.urls import reverse

from citycheck.collection.models import Round
from citycheck.core.jobs import job_function

from . import services
from .compute import AssessmentError
from .methods import MethodError, parse_method


@job_function(
    "assessment.run",
    result_url=lambda result: reverse("assessment:release", args=[result["release"]]),
    known_errors=(AssessmentError, MethodError),
)
def run_assessment_job(job, *, round_id: int, method_text: str, method_source: str = ""):
    """Run the assessment of a round and return the id of the release it created."""
    spec = parse_method(method_text, source=method_source)
    release = services.run_assessment(
        Round.objects.get(pk=round_id),
        spec,
        acting_user=job.created_by,
        job=job,
        report=job.report,
    )
    return {"release": release.pk, "digest": release.input_digest}
