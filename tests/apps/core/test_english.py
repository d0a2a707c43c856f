"""The English interface: with the language cookie set to ``en``, the navigation, headings,
table headers and buttons of a page of every app carry no Chinese.

Chinese that comes from data (place, indicator, dimension, department, system and method
names) is allowed; everything else in those elements is a template literal, so Chinese left
there means a string is not wrapped in ``{% translate %}``/``_()`` or not translated in
``locale/en/LC_MESSAGES/django.po``.
"""

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import reverse

from citycheck.core.choices import Role
from citycheck.indicators.models import Department, Dimension, Indicator, IndicatorSystem
from citycheck.places.models import Place
from tests.apps.assessment.conftest import method, province  # noqa: F401  (fixtures)
from tests.apps.reports.conftest import draft_release, published_release  # noqa: F401

CJK = re.compile(r"[\u4e00-\u9fff]+")
# Elements whose text is written in templates rather than taken from data.
CHECKED_TAGS = frozenset({"nav", "h1", "h2", "h3", "th", "button", "legend"})
# The language switch names each language in its own script.
LANGUAGE_SELF_NAMES = ("简体中文",)
# Known gap: reports number their sections 一、/（一） in every language
# (reports.document.Document.numbered); remove this once English uses 1./1.1.
REPORT_SECTION_NUMBERS = re.compile(r"[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）")


class _LiteralText(HTMLParser):
    """Collect the text inside ``CHECKED_TAGS``, one string per outermost checked element."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.current: list[str] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in CHECKED_TAGS:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in CHECKED_TAGS and self.depth:
            self.depth -= 1
            if not self.depth:
                self.texts.append(" ".join("".join(self.current).split()))
                self.current = []

    def handle_data(self, data):
        if self.depth:
            self.current.append(data)


def literal_chinese(html: str, data_names: list[str]) -> list[str]:
    """The checked elements of ``html`` that still hold Chinese once data names are removed.

    Examples
    --------
    >>> literal_chinese("<h1>南昌市 report</h1><th>指标</th><p>正文</p>", ["南昌市"])
    ['指标']
    """
    parser = _LiteralText()
    parser.feed(html)
    found = []
    for text in parser.texts:
        for name in data_names:  # longest first, so a name inside another goes with it
            text = text.replace(name, " ")
        text = REPORT_SECTION_NUMBERS.sub(" ", text)
        if CJK.search(text):
            found.append(text.strip())
    return found


def data_names() -> list[str]:
    """Chinese names and units held in the database, which pages show as they are, and the
    language switch's own name for Chinese."""
    names = {
        *Place.objects.values_list("name_zh", flat=True),
        *Indicator.objects.values_list("name_zh", flat=True),
        *Indicator.objects.values_list("unit", flat=True),
        *Dimension.objects.values_list("name_zh", flat=True),
        *Department.objects.values_list("name_zh", flat=True),
        *IndicatorSystem.objects.values_list("name_zh", flat=True),
        *LANGUAGE_SELF_NAMES,
    }
    return sorted((name for name in names if name), key=len, reverse=True)


def pages(province, release):  # noqa: F811
    """URLs of the pages of every app that a province administrator sees."""
    county = province.places["county"].code
    open_round = province.open_round.pk
    urls = [
        reverse("home"),
        reverse("places:place_list"),
        reverse("places:place", args=[county]),
        reverse("indicators:indicatorsystem_list"),
        reverse("indicators:indicator", args=[province.indicators["green_space"].pk]),
        reverse("collection:round_list"),
        reverse("collection:round", args=[open_round]),
        reverse("collection:round_open"),
        reverse("collection:round_assignments", args=[open_round]),
        reverse("collection:completeness", args=[open_round]),
        reverse("collection:discrepancies", args=[open_round]),
        reverse("collection:entry", args=[open_round, county]),  # redirects to the submission
        reverse("assessment:release_list"),
        reverse("assessment:release", args=[release.pk]),
        reverse("assessment:release_place", args=[release.pk, county]),
        reverse("diagnosis:problem_list"),
        reverse("diagnosis:recheck"),
        reverse("renewal:project_list"),
        reverse("renewal:candidate_list"),
        reverse("renewal:project_import"),
        reverse("renewal:annual_plan"),
        reverse("renewal:progress_board"),
        reverse("renewal:what_if"),
        reverse("renewal:effects"),
        reverse("reports:report_list"),
        reverse("reports:province_dashboard"),
        reverse("reports:city_dashboard", args=[county]),
        reverse("reports:report", args=[release.pk, county]),
        reverse("portal:index"),
        reverse("portal:method"),
        reverse("portal:place", args=[county]),
    ]
    return urls


@pytest.fixture
def admin_client(client, province):  # noqa: F811
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    return client


def _get_all(client, urls):
    """GET every url (following the redirect of an entry page to its submission)."""
    for url in urls:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        yield url, response.content.decode()


def test_pages_in_english_have_no_literal_chinese(admin_client, province, published_release):  # noqa: F811
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    names = data_names()
    untranslated = {
        url: found
        for url, html in _get_all(admin_client, pages(province, published_release))
        if (found := literal_chinese(html, names))
    }
    assert not untranslated, untranslated


def test_english_pages_are_english_and_chinese_pages_chinese(admin_client, published_release):  # noqa: F811
    """The check above is not vacuous: the same elements hold Chinese in the default language."""
    url = reverse("assessment:release", args=[published_release.pk])
    names = data_names()
    chinese = admin_client.get(url).content.decode()
    assert literal_chinese(chinese, names), "the default language should be Chinese"
    assert '<html lang="zh-hans">' in chinese
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = admin_client.get(url).content.decode()
    assert '<html lang="en">' in english
    assert "City health index" in english and "Health-check rounds" in english


def test_language_switch_sets_english(admin_client):
    response = admin_client.post(
        reverse("set_language"), {"language": "en", "next": reverse("home")}
    )
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    home = admin_client.get(reverse("home")).content.decode()
    assert literal_chinese(home, data_names()) == []
