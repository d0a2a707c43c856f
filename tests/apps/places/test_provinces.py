"""Several provinces in one instance: a national instance with two small provinces.

Built through the services a person would use: divisions loaded from a file with the
nation above both provinces, the national system imported by the national administrator,
each province's administrator opening the 2025 round of that system over its own cities,
the cities saving and submitting their values, the province accepting them, closing the
round, assessing and publishing. Each province's users see only their own round; the
national administrator sees both; each province's portal page shows only its own release;
a province administrator is refused changing the national system and may extend it.
"""

import importlib

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from citycheck.assessment import services as assessment
from citycheck.assessment.methods import parse_method
from citycheck.collection import services as collection
from citycheck.collection import workflow
from citycheck.collection.forms import RoundOpenForm
from citycheck.collection.models import Round, RoundStatus, Source, Submission, Value
from citycheck.core.choices import Action, Role
from citycheck.indicators import services as indicators
from citycheck.indicators.models import IndicatorSystem
from citycheck.places.models import Place, PlaceLevel
from citycheck.places.services import classify_places, load_divisions
from citycheck.testing import build_user

DIVISIONS = """\
code,name_zh,name_en,level,parent_code,unit_type
100000,中华人民共和国,China,nation,,nation
360000,江西省,Jiangxi,province,100000,province
360100,南昌市,Nanchang,city,360000,prefecture_city
360200,景德镇市,Jingdezhen,city,360000,prefecture_city
360300,萍乡市,Pingxiang,city,360000,prefecture_city
430000,湖南省,Hunan,province,100000,province
430100,长沙市,Changsha,city,430000,prefecture_city
430200,株洲市,Zhuzhou,city,430000,prefecture_city
430300,湘潭市,Xiangtan,city,430000,prefecture_city
"""

SYSTEM = """\
code: national
version: 2025
name_zh: 全国城市体检指标体系
departments:
  - {code: housing, name_zh: 住房城乡建设}
dimensions:
  - {code: ecology, name_zh: 生态宜居}
  - {code: safety, name_zh: 安全韧性}
indicators:
  - code: park
    dimension: ecology
    name_zh: 人均公园绿地面积
    unit: 平方米/人
    direction: higher
    type: guiding
    tier: national
    department: housing
    source_kind: spatial
    rollup: none
    citation: 住房和城乡建设部《城市体检指标体系》
    standards:
      - {comparison: '>=', value: 10, warning_band: 2}
  - code: waterlogging
    dimension: safety
    name_zh: 城市内涝积水点数量
    unit: 个
    direction: lower
    type: bottom_line
    tier: national
    department: housing
    source_kind: statistics
    rollup: sum
    citation: 住房和城乡建设部《城市体检指标体系》
    standards:
      - {comparison: '<=', value: 0}
"""

EXTENSION = """\
code: jiangxi
version: 2025
name_zh: 江西省城市体检指标体系
extends: {code: national, version: 2025}
dimensions:
  - {code: culture, name_zh: 历史文化}
indicators:
  - code: heritage
    dimension: culture
    name_zh: 历史建筑保护利用率
    unit: '%'
    direction: higher
    type: guiding
    tier: provincial
    source_kind: statistics
    rollup: none
    definition_origin: own
"""

METHOD = """
code: national-test
version: 1
name_zh: 测试评价方法
place_levels: [city]
steps:
  impute: {method: mean}
  screen: {min_availability: 0.5}
  treat: {method: none}
  normalise: {method: minmax, low: 1, high: 100}
  weights:
    indicators: {method: equal}
    dimensions: {method: equal}
  aggregate: {dimension: arithmetic, index: arithmetic}
uncertainty:
  draws: 20
  random_state: 7
  normalisation: [minmax]
  aggregation: [arithmetic]
"""

API_IMPORT = "/api/indicators/indicator-systems/import/"

# City → (park, waterlogging) adopted in 2025.
VALUES = {
    "360100": (14.0, 1.0),
    "360200": (11.0, 3.0),
    "360300": (9.0, 5.0),
    "430100": (15.0, 0.0),
    "430200": (12.0, 2.0),
    "430300": (8.0, 6.0),
}


def _collect_province_round(province, admin, city_users, system) -> Round:
    """The province's year: its administrator opens the round over its cities and enters
    the cities' figures, each city submits, the province accepts."""
    cities = list(Place.objects.filter(parent=province).order_by("code"))
    round_ = collection.open_round(year=2025, system=system, places=cities, acting_user=admin)
    owed = {i.code: i for i in system.all_indicators()}
    collection.save_values(
        round_,
        [
            collection.ValueEntry(city, owed[code], figure, read_version=0)
            for city in cities
            for code, figure in zip(("park", "waterlogging"), VALUES[city.code], strict=True)
        ],
        acting_user=admin,
    )
    for city in cities:
        submission = Submission.objects.get(round=round_, place=city, source=Source.SELF_CHECK)
        workflow.submit_submission(submission, acting_user=city_users[city.code])
        workflow.accept_submission(submission, acting_user=admin)
    return round_


@pytest.fixture
def nation(db, tmp_path):
    """The nation, two provinces of three cities each, their administrators and the
    national system imported by the national administrator."""
    divisions = tmp_path / "divisions.csv"
    divisions.write_text(DIVISIONS, encoding="utf-8")
    load_divisions(divisions)
    places = {place.code: place for place in Place.objects.all()}
    users = {
        "national": build_user("national", Role.NATIONAL_ADMIN, places["100000"]),
        "360000": build_user("jiangxi", Role.PROVINCE_ADMIN, places["360000"]),
        "430000": build_user("hunan", Role.PROVINCE_ADMIN, places["430000"]),
    }
    system_file = tmp_path / "national.yaml"
    system_file.write_text(SYSTEM, encoding="utf-8")
    system = indicators.import_system_file(system_file, acting_user=users["national"])
    return places, users, system


def _finish(round_, admin):
    collection.set_round_status(round_, RoundStatus.CLOSED, acting_user=admin)
    release = assessment.run_assessment(
        round_, parse_method(METHOD, source="national-test.yaml"), acting_user=admin
    )
    return assessment.publish_release(release, acting_user=admin)


def test_two_provinces_run_the_same_round_and_see_only_their_own(nation, client):
    places, users, system = nation
    classify_places(2025, {code: 150.0 for code in VALUES})
    for code in VALUES:
        users[code] = build_user(f"city{code}", Role.CITY_ADMIN, places[code])
    for user in users.values():
        user.full_clean()  # each role anchored at its level, the nation's included
    jiangxi, hunan = (
        _collect_province_round(places[code], users[code], users, system)
        for code in ("360000", "430000")
    )
    # Two rounds of the same system and year, each run by its province.
    assert (jiangxi.year, jiangxi.system, jiangxi.scope) == (2025, system, places["360000"])
    assert (hunan.year, hunan.system, hunan.scope) == (2025, system, places["430000"])
    assert system.owner is None  # the national system belongs to the instance's top level

    def visible(user, action=Action.VIEW):
        return set(Round.objects.restrict(user, action))

    assert visible(users["360000"]) == {jiangxi}
    assert visible(users["360100"]) == {jiangxi}
    assert visible(users["430000"]) == {hunan}
    assert visible(users["national"]) == {jiangxi, hunan}
    assert visible(users["national"], Action.PUBLISH) == {jiangxi, hunan}
    # Values too: a province's user reads none of the other province's.
    codes = set(Value.objects.restrict(users["360000"]).values_list("place__code", flat=True))
    assert codes == {"360100", "360200", "360300"}
    # A second 2025 round of the system in a province that runs one is refused.
    form = RoundOpenForm(
        {"year": 2025, "kind": "annual", "system": system.pk, "deadline": "2026-03-31"},
        user=users["360000"],
    )
    assert not form.is_valid() and "year" in form.errors
    # The rounds page lists the user's own round only.
    client.force_login(users["430000"])
    listed = client.get(reverse("collection:round_list")).context["object_list"]
    assert list(listed) == [hunan]

    # Each province closes, assesses and publishes its own round.
    _finish(jiangxi, users["360000"])
    _finish(hunan, users["430000"])

    # The national portal page lists the provinces; each province's page shows only its
    # own ranking; the provincial dashboard of each administrator shows its own release.
    client.logout()
    national_page = client.get(reverse("portal:index"))
    assert national_page.status_code == 200
    text = national_page.content.decode()
    assert "江西省" in text and "湖南省" in text and "?province=360000" in text
    for code, own, other in (
        ("360000", "南昌市", "长沙市"),
        ("430000", "长沙市", "南昌市"),
    ):
        page = client.get(reverse("portal:index"), {"province": code}).content.decode()
        assert own in page and other not in page, code
    assert client.get(reverse("portal:index"), {"province": "999999"}).status_code == 404
    ranking = client.get(reverse("portal-api:ranking"), {"province": "430000"}).json()
    assert {row["code"] for row in ranking["results"]} == {"430100", "430200", "430300"}
    place = client.get(reverse("portal-api:place", args=["360200"])).json()
    assert place["place"]["code"] == "360200"

    client.force_login(users["360000"])
    dashboard = client.get(reverse("reports:province_dashboard")).context
    assert dashboard["release"].round == jiangxi
    assert dashboard["top"] == places["360000"]
    client.force_login(users["national"])
    chosen = client.get(reverse("reports:province_dashboard"), {"province": "430000"}).context
    assert chosen["release"].round == hunan

    # Rounds opened before rounds had a scope get their province from their places.
    Round.objects.filter(pk=jiangxi.pk).update(scope=None)
    migration = importlib.import_module("citycheck.collection.migrations.0007_fill_round_scope")
    migration.fill_scope(django_apps, None)
    assert Round.objects.get(pk=jiangxi.pk).scope == places["360000"]
    every_city = list(Place.objects.filter(level=PlaceLevel.CITY))
    assert Place.objects.governing(every_city) == places["100000"]


def test_a_province_admin_cannot_change_the_national_system(nation, client):
    places, users, system = nation
    changed = SYSTEM.replace("name_zh: 全国城市体检指标体系", "name_zh: 改过的全国体系")
    client.force_login(users["360000"])
    page = client.post(
        reverse("indicators:system_import"),
        {"file": _upload("national.yaml", changed)},
    )
    assert page.status_code == 403
    assert "中华人民共和国" in page.context["refusal"] and "extends" in page.context["refusal"]
    api = client.post(API_IMPORT, {"file": _upload("national.yaml", changed)})
    assert api.status_code == 403 and "中华人民共和国" in api.json()["detail"]
    system.refresh_from_db()
    assert system.name_zh == "全国城市体检指标体系"  # nothing written

    # Its own extension is welcome, and belongs to the province.
    created = client.post(API_IMPORT, {"file": _upload("jiangxi.yaml", EXTENSION)})
    assert created.status_code == 201, created.content
    extension = IndicatorSystem.objects.get(pk=created.json()["id"])
    assert (extension.owner, extension.extends) == (places["360000"], system)
    # ... which the other province may not change, and the national administrator may.
    client.force_login(users["430000"])
    again = EXTENSION.replace("历史文化", "文化传承")
    refused = client.post(API_IMPORT, {"file": _upload("jiangxi.yaml", again)})
    assert refused.status_code == 403 and "江西省" in refused.json()["detail"]
    client.force_login(users["national"])
    page = client.post(reverse("indicators:system_import"), {"file": _upload("n.yaml", changed)})
    assert page.status_code == 302
    system.refresh_from_db()
    assert system.name_zh == "改过的全国体系"


def _upload(name, text):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="application/yaml")
