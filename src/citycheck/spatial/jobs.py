"""Background jobs of the life-circle analysis."""

from django.urls import reverse

from citycheck.collection.services import CheckStepError
from citycheck.core.jobs import job_function
from citycheck.engine.accessibility import EngineError

from . import services
from .geodata import GeodataError
from .models import Dataset


@job_function(
    "spatial.analyse",
    result_url=lambda result: reverse("spatial:analysis", args=[result["analysis"]]),
    known_errors=(services.SpatialError, GeodataError, EngineError, CheckStepError),
)
def analyse_job(job, *, dataset_id: int):
    """Analyse a dataset; the result names the analysis for the job page's link."""
    analysis = services.run_analysis(
        Dataset.objects.get(pk=dataset_id), acting_user=job.created_by, report=job.report
    )
    return {"analysis": analysis.pk, "digest": analysis.digest}
