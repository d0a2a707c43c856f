"""Issue 10 item 9: every public page of a synthetic round says 演示数据（合成）; pages of a
real round do not."""

import pytest
from django.core.cache import cache
from django.urls import reverse

pytestmark = pytest.mark.django_db

LABEL = "演示数据（合成）"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


def synthetic(release, value: bool):
    release.round.is_synthetic = value
    release.round.save(update_fields=["is_synthetic"])
    cache.clear()


def portal_pages(release):
    year = f"?year={release.round.year}"
    return [
        reverse("portal:index"),
        reverse("portal:index") + year,
        reverse("portal:place", args=["360102"]) + year,
        reverse("portal:method") + year,
    ]


def test_every_portal_page_of_a_synthetic_round_carries_the_label(client, published_release):
    synthetic(published_release, True)
    for url in portal_pages(published_release):
        response = client.get(url)
        assert response.status_code == 200, url
        assert LABEL in response.content.decode(), url


def test_a_real_round_is_not_labelled(client, published_release):
    synthetic(published_release, False)
    for url in portal_pages(published_release):
        assert LABEL not in client.get(url).content.decode(), url
