"""Issue 10 item 7b: publishing goes through a confirmation page that says what becomes
public; nothing is published until the official confirms."""

import pytest
from django.urls import reverse

from citycheck.assessment import services
from citycheck.assessment.models import ReleaseStatus
from citycheck.core.choices import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def drafts(province, method):
    admin = province.users[Role.PROVINCE_ADMIN]
    first = services.run_assessment(province.open_round, method, acting_user=admin)
    services.publish_release(first, acting_user=admin)
    second = services.run_assessment(province.open_round, method, acting_user=admin)
    return first, second


def test_publish_asks_first_then_publishes_on_confirmation(client, province, drafts):
    published, draft = drafts
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    release_page = client.get(reverse("assessment:release", args=[draft.pk])).content.decode()
    confirm_url = reverse("assessment:release_publish", args=[draft.pk])
    assert f'href="{confirm_url}"' in release_page  # a link to the question, not a POST
    assert "演示数据（合成）" in release_page  # the test province's round is synthetic
    release_list = client.get(reverse("assessment:release_list")).content.decode()
    assert "演示数据（合成）" in release_list

    page = client.get(confirm_url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "将对所有人公开" in text
    assert "演示数据（合成）" in text
    assert "县（市、区） 4 个地区的城市健康指数" in text
    assert "3 项指标的数值和得分" in text
    assert f"当前已发布的评价结果 #{published.pk} 将被替代" in text
    draft.refresh_from_db()
    assert draft.status == ReleaseStatus.DRAFT  # looking at the question publishes nothing

    response = client.post(confirm_url, follow=True)
    draft.refresh_from_db()
    published.refresh_from_db()
    assert draft.status == ReleaseStatus.PUBLISHED
    assert published.status == ReleaseStatus.SUPERSEDED
    assert "已发布" in response.content.decode()


def test_confirmation_is_refused_to_who_may_not_publish(client, province, drafts):
    _published, draft = drafts
    client.force_login(province.users[Role.CITY_ADMIN])
    response = client.get(reverse("assessment:release_publish", args=[draft.pk]))
    assert response.status_code in (403, 404)


def test_a_published_release_offers_no_button(client, province, drafts):
    published, _draft = drafts
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    text = client.get(reverse("assessment:release_publish", args=[published.pk])).content.decode()
    assert "该版本已发布或已被替代" in text and 'data-testid="confirm-publish"' not in text
