"""Login, the home page per role, the language switch, the admin and the API schema."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from citycheck.core.choices import Role
from citycheck.testing import PASSWORD, build_small_province


@pytest.fixture
def province(db):
    return build_small_province()


def test_login_page_and_login(client, province):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert "城市体检评估信息平台" in response.content.decode()
    response = client.post(
        reverse("accounts:login"), {"username": Role.COUNTY_ADMIN, "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_pages_require_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login")
    )


@pytest.mark.parametrize(
    ("role", "place_counts", "filled", "expected"),
    [
        # province: 1 province, 2 cities, 4 counties; 7 places × 3 indicators
        (Role.PROVINCE_ADMIN, [1, 2, 4], 21, 21),
        (Role.CITY_ADMIN, [0, 1, 2], 9, 9),
        (Role.COUNTY_ADMIN, [0, 0, 1], 3, 3),
        # two housing indicators × 3 places of 南昌市
        (Role.DEPARTMENT_FILLER, [0, 1, 2], 6, 6),
        (Role.EVALUATOR, [0, 1, 1], 6, 6),
    ],
)
def test_home_shows_places_in_reach_and_what_is_due(
    client, province, role, place_counts, filled, expected
):
    client.force_login(province.users[role])
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert [count for _label, count in response.context["level_counts"]] == place_counts
    [due] = response.context["due"]
    assert due["round"] == province.open_round
    assert (due["filled"], due["expected"]) == (filled, expected)
    assert "演示数据（合成）" in response.content.decode()


def test_public_user_home_has_no_places_and_only_published_rounds(client, province):
    client.force_login(province.users[Role.PUBLIC])
    response = client.get(reverse("home"))
    assert [count for _label, count in response.context["level_counts"]] == [0, 0, 0]
    assert list(response.context["rounds"]) == [province.published_round]
    assert response.context["due"] == []


def test_language_switch_to_english(client, province):
    client.force_login(province.users[Role.COUNTY_ADMIN])
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "County administrator" in html and "Dashboard" in html


def test_admin_is_for_staff_only(client, province):
    client.force_login(province.users[Role.CITY_ADMIN])
    assert client.get("/admin/").status_code == 302
    staff = province.users[Role.PROVINCE_ADMIN]
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    for url in [
        "/admin/",
        "/admin/places/place/",
        "/admin/indicators/indicator/",
        "/admin/collection/value/",
        "/admin/accounts/user/",
        "/admin/core/changerecord/",
    ]:
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/places/place/?q=东湖").status_code == 200


def test_openapi_schema_generates_without_warnings(db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    schema = (tmp_path / "s.yml").read_text(encoding="utf-8")
    for path in [
        "/api/places/places/{code}/boundaries/",
        "/api/indicators/indicators/",
        "/api/collection/values/{id}/",
    ]:
        assert path in schema


def test_api_docs_served_from_our_static(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert "cdn" not in response.content.decode().lower()


def test_error_pages_keep_the_layout_and_speak_the_users_language(client, province):
    from django.core.exceptions import PermissionDenied
    from django.test import RequestFactory
    from django.views import defaults

    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    text = missing.content.decode()
    assert 'data-testid="error-page"' in text and "页面不存在" in text and "topbar" in text
    client.cookies["django_language"] = "en"
    assert "Page not found" in client.get("/no-such-page/").content.decode()

    request = RequestFactory().get("/renewal/effects/")
    request.user = province.users[Role.COUNTY_ADMIN]
    denied = defaults.permission_denied(
        request, PermissionDenied("项目成效评估仅对全省范围的用户开放。")
    )
    assert denied.status_code == 403
    assert "项目成效评估仅对全省范围的用户开放。" in denied.content.decode()


def test_the_server_error_page_needs_no_context(client):
    from django.test import RequestFactory
    from django.views import defaults

    page = defaults.server_error(RequestFactory().get("/"))
    assert page.status_code == 500
    assert "服务器错误" in page.content.decode() and "Server error" in page.content.decode()


def test_favicon_and_the_expired_form_page(client, db):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 301 and icon["Location"].endswith(".svg")
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    expired = strict.post("/i18n/setlang/", {"language": "en"})
    assert expired.status_code == 403
    text = expired.content.decode()
    assert "页面已过期" in text and "Page expired" in text and "nothing was saved" in text


def test_a_long_list_links_its_pages_keeping_the_filters(rf, province):
    from citycheck.core.views_base import RestrictedListView
    from citycheck.places.models import Place

    class Places(RestrictedListView):
        queryset = Place.objects.order_by("code")
        paginate_by = 2
        template_name = "includes/pages.html"

    request = rf.get("/places/", {"level": "county", "page": "2"})
    request.user = province.users[Role.PROVINCE_ADMIN]
    response = Places.as_view()(request)
    pages = response.context_data["pages"]
    assert pages["page"].number == 2 and pages["query"] == "level=county"
    html = response.rendered_content
    assert '?level=county&amp;page=3"' in html and 'aria-current="true">2<' in html
