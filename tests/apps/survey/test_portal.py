"""The portal shows satisfaction scores of published rounds only."""

from django.urls import reverse

from citycheck.collection.models import RoundStatus

from .conftest import enter, synthetic_rows


def test_portal_shows_published_scores_only(surveyed, client):
    from citycheck.survey.weighting import weight_survey

    enter(surveyed, synthetic_rows(["360102", "360103", "360402", "360403"], 20))
    weight_survey(surveyed.survey, acting_user=surveyed.admin)
    url = reverse("portal:satisfaction")
    page = client.get(url).content.decode()
    assert 'data-testid="no-satisfaction"' in page  # the 2024 round is still open
    round_ = surveyed.open_round
    round_.status = RoundStatus.PUBLISHED
    round_.save()
    page = client.get(url).content.decode()
    assert 'data-place="360100"' in page and 'data-place="360000"' in page
    assert 'data-place="360102"' not in page  # counties are not shown on the portal
