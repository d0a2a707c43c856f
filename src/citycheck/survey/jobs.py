"""Background jobs of the survey: weighting (run by citycheck.core.jobs)."""

from django.urls import reverse

from citycheck.core.jobs import job_function

from .models import Survey
from .services import SurveyError


@job_function(
    "survey.weight",
    result_url=lambda result: reverse("survey:scores", args=[result["survey"]]),
    known_errors=(SurveyError,),
)
def weight_job(job, survey_id: int):
    """Weight a survey's responses and store its scores and survey values."""
    from .weighting import weight_survey

    survey = Survey.objects.select_related("round", "questionnaire").get(pk=survey_id)
    summary = weight_survey(survey, acting_user=job.created_by, progress=job.report)
    return {"survey": survey.pk, **summary}
