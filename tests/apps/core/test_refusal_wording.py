"""Issue 10 item 7d: the 403 page tells a person, in the page's language, whose data and
which action were refused, without Python names (``Action.VIEW``) or quoted codes."""

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_another_citys_place_is_refused_in_a_sentence(client, small_province):
    from citycheck.core.choices import Role

    city_admin = small_province.users[Role.CITY_ADMIN]
    other_city = small_province.places["other_city"]
    client.force_login(city_admin)
    url = reverse("collection:entry", args=[small_province.open_round.pk, other_city.code])

    response = client.get(url)
    assert response.status_code == 403
    page = response.content.decode()
    assert f"您的账号无权查看代码为 {other_city.code} 的地区的数据" in page
    assert "该地区不在您负责的范围内" in page
    assert "Action." not in page and "No access" not in page

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(url).content.decode()
    assert f"Your account may not view the data of the place with code {other_city.code}" in page
    assert "无权" not in page
