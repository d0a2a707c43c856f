"""Query budgets of the pages users wait on (issue 17): each list page reads its rows in a
fixed number of queries, whatever the number of rows: no query per row.

Each page is asked once with few rows and once with many more; the second must take no
more queries than the first, and both stay within the page's budget.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from citycheck.core.choices import Role
from citycheck.diagnosis.models import Problem, RecheckStatus, Severity
from tests.apps.assessment.conftest import method, province  # noqa: F401  (fixtures)
from tests.apps.reports.conftest import draft_release, published_release  # noqa: F401

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')

# Queries per page (session, user, reach, the page's reads): a page over budget has grown
# a query, most likely one per row.
BUDGETS = {
    "diagnosis:problem_list": 16,
    "diagnosis:recheck": 25,  # a query per round of the province (a handful)
    "assessment:release_list": 12,
    "assessment:release": 16,
    "reports:province_dashboard": 16,
    "reports:report_list": 14,
    "collection:round_list": 12,
    "renewal:project_list": 16,
    "portal:index": 12,
}


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries.captured_queries)


def add_problems(province, count: int, *, start: int = 0) -> None:  # noqa: F811
    """``count`` problems over the counties of the published round, each with evidence,
    causes and lead departments by code (what the list words from each row)."""
    department = next(iter(province.departments.values()))
    counties = [p for label, p in province.places.items() if "county" in label]
    for n in range(start, start + count):
        Problem.objects.create(
            round=province.published_round,
            place=counties[n % len(counties)],
            disease=f"disease_{n}",
            disease_name=f"城市病{n}",
            dimension="eco",
            severity=Severity.MODERATE,
            points=n % 7,
            signals=["lowest_quartile"],
            evidence=[
                {
                    "indicator": "green_space",
                    "name": "人均公园绿地面积",
                    "value": 9.0,
                    "unit": "m²",
                    "signals": ["lowest_quartile"],
                    "peer_rank": 4,
                    "peer_count": 4,
                }
            ],
            causes=[],
            departments=[department.code, "其他单位"],
            explanation="…",
            first_year=province.published_round.year,
            recheck_status=RecheckStatus.UNCHANGED,
            recheck_year=province.open_round.year,
        )


def assert_flat(client, name, url, grow) -> None:
    few = count_queries(client, url)
    grow()
    many = count_queries(client, url)
    assert many <= few, f"{name}: {few} queries with few rows, {many} with many (a query per row)"
    assert many <= BUDGETS[name], f"{name}: {many} queries, budget {BUDGETS[name]}"


@pytest.mark.parametrize("name", ["diagnosis:problem_list", "diagnosis:recheck"])
def test_problem_pages_read_their_rows_at_once(client, province, name):  # noqa: F811
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    add_problems(province, 3)
    url = reverse(name)
    if name == "diagnosis:recheck":
        url += f"?year={province.open_round.year}"
    assert_flat(client, name, url, lambda: add_problems(province, 40, start=3))


@pytest.mark.parametrize(
    "name",
    [
        "assessment:release_list",
        "assessment:release",
        "reports:province_dashboard",
        "reports:report_list",
        "collection:round_list",
        "renewal:project_list",
        "portal:index",
    ],
)
def test_release_pages_within_budget(client, province, published_release, name):  # noqa: F811
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    args = [published_release.pk] if name == "assessment:release" else []
    url = reverse(name, args=args)
    queries = count_queries(client, url)
    assert queries <= BUDGETS[name], f"{name}: {queries} queries, budget {BUDGETS[name]}"
    if name in ("assessment:release", "reports:province_dashboard"):
        # The same for every reader of a published release: read again from the cache.
        again = count_queries(client, url)
        assert again < queries, f"{name}: {again} queries the second time, {queries} first"


def test_submission_page_reads_its_indicators_at_once(client, province):  # noqa: F811
    from citycheck.collection.models import Source, Submission

    user = province.users[Role.COUNTY_ADMIN]
    client.force_login(user)
    submission, _created = Submission.objects.get_or_create(
        round=province.open_round, place=user.place, source=Source.SELF_CHECK, department=None
    )
    url = reverse("collection:submission", args=[submission.pk])
    queries = count_queries(client, url)
    assert queries <= 26, f"submission page: {queries} queries"


@pytest.fixture
def page_cache(settings):
    """The pages' cached parts on (off in the other tests, which read rows from contexts)."""
    from django.core.cache import cache

    settings.CITYCHECK_PAGE_CACHE_SECONDS = 600
    cache.clear()


def test_submission_rows_are_rendered_once_and_follow_each_save(
    client,
    province,  # noqa: F811
    page_cache,
    monkeypatch,
    settings,
):
    from citycheck.collection import entry_views, services
    from citycheck.collection.models import RoundStatus, Source, Submission, Value

    settings.CITYCHECK_PEER_CACHE_SECONDS = 60  # the submit check kept too
    province.open_round.status = RoundStatus.OPEN  # the county fills it
    province.open_round.save(update_fields=["status"])
    user = province.users[Role.COUNTY_ADMIN]
    client.force_login(user)
    submission, _created = Submission.objects.get_or_create(
        round=province.open_round, place=user.place, source=Source.SELF_CHECK, department=None
    )
    url = reverse("collection:submission", args=[submission.pk])
    first = client.get(url).content.decode()
    rows = entry_views.entry_rows
    monkeypatch.setattr(entry_views, "entry_rows", lambda *a, **k: pytest.fail("not cached"))
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url).content.decode()
    # session, user, the submission, its stamps (one query), the reach: none of the rows,
    # indicators, check, comments, evidence or revision requests (6 when written)
    assert len(queries) <= 7, f"submission page, parts kept: {len(queries)} queries"
    assert TOKEN.sub("", again) == TOKEN.sub("", first)  # the same rows, none rendered
    monkeypatch.setattr(entry_views, "entry_rows", rows)
    indicator = services.indicators_owed(province.open_round)[0]
    stored = Value.objects.filter(
        round=province.open_round, place=user.place, indicator=indicator, source=Source.SELF_CHECK
    ).first()
    version = stored.version if stored else 0
    services.save_values(
        province.open_round,
        [services.ValueEntry(user.place, indicator, 123.25, "", version)],
        source=Source.SELF_CHECK,
        acting_user=user,
    )
    page = client.get(url).content.decode()
    assert f'name="value-{indicator.pk}" value="123.25"' in page
    assert f'name="version-{indicator.pk}" value="{version + 1}"' in page


def test_problem_rows_are_worded_once_and_follow_each_review(
    client,
    province,  # noqa: F811
    page_cache,
    monkeypatch,
):
    from citycheck.diagnosis import services, wording

    client.force_login(province.users[Role.PROVINCE_ADMIN])
    add_problems(province, 3)
    url = reverse("diagnosis:problem_list")
    assert "暂无问题" not in client.get(url).content.decode()
    describe = wording.description
    monkeypatch.setattr(wording, "description", lambda *a: pytest.fail("worded again"))
    assert client.get(url).status_code == 200
    monkeypatch.setattr(wording, "description", describe)
    problem = Problem.objects.order_by("pk").first()
    services.review_problem(
        problem, status="confirmed", reason="核实", acting_user=province.users[Role.PROVINCE_ADMIN]
    )
    rows = re.findall(r"<tr>(.*?)</tr>", client.get(url).content.decode(), re.S)
    row = next(r for r in rows if f"/diagnosis/problems/{problem.pk}/" in r)
    assert "已确认" in row
