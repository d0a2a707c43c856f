"""Celery task of publication: one place's report, for :func:`services.render_on_workers`."""

from celery import shared_task


@shared_task(name="reports.render_place", track_started=True, acks_late=True)
def render_place_task(
    release_id: int, place_id: int | None, formats: list[str], out_dir: str
) -> list[str]:
    """Render the report of place ``place_id`` (None: the provincial summary) of the
    release into ``out_dir``; the paths of the files written."""
    from citycheck.assessment.models import Release
    from citycheck.places.models import Place

    from . import services

    release = Release.objects.select_related("round", "scope").get(pk=release_id)
    place = None if place_id is None else Place.objects.get(pk=place_id)
    return [str(path) for path in services.render_report(release, place, formats, out_dir)]
