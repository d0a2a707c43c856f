"""Division codes: the shipped data file, the loader and the hierarchy."""

import csv

import pytest
from django.contrib.auth import get_user_model

from citycheck.core.models import ChangeRecord
from citycheck.places import services
from citycheck.places.models import Place, PlaceLevel, UnitType

SHARED_LEVEL_TO_MODEL = {"province": "province", "prefecture": "city", "county": "county"}


def _read(path):
    with path.open(encoding="utf-8") as file:
        return {row["code"]: row for row in csv.DictReader(file)}


def test_shipped_codes_equal_the_reference_file(shared_data):
    shipped = _read(services.DIVISIONS_FILE)
    reference = _read(shared_data / "jiangxi_divisions.csv")
    assert shipped.keys() == reference.keys()
    for code, ref in reference.items():
        row = shipped[code]
        assert row["name_zh"] == ref["name_zh"], code
        assert row["level"] == SHARED_LEVEL_TO_MODEL[ref["level"]], code
        assert row["parent_code"] == ref["parent_code"], code
        assert row["unit_type"] == ref["unit_type"], code


def test_every_place_has_an_english_name():
    assert all(row["name_en"] for row in _read(services.DIVISIONS_FILE).values())


def test_load_gives_the_official_counts(jiangxi):
    levels = {level: Place.objects.filter(level=level).count() for level in PlaceLevel.values}
    assert levels == {"nation": 0, "province": 1, "city": 11, "county": 100}
    counties = Place.objects.filter(level=PlaceLevel.COUNTY)
    assert counties.filter(unit_type=UnitType.DISTRICT).count() == 27
    assert counties.filter(unit_type=UnitType.COUNTY_CITY).count() == 12
    assert counties.filter(unit_type=UnitType.COUNTY).count() == 61


@pytest.mark.django_db
def test_load_twice_changes_nothing_and_is_audited():
    user = get_user_model().objects.create_user("loader")
    first = services.load_divisions(acting_user=user)
    assert (first.created, first.updated, first.unchanged) == (112, 0, 0)
    records = ChangeRecord.objects.count()
    assert ChangeRecord.objects.filter(user=user, kind=ChangeRecord.Kind.CREATE).count() == 112
    second = services.load_divisions(acting_user=user)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 112)
    assert ChangeRecord.objects.count() == records


def test_subtree_and_ancestors(jiangxi):
    nanchang = Place.objects.get(code="360100")
    subtree = set(Place.objects.subtree_of(nanchang).values_list("code", flat=True))
    assert subtree == {
        "360100", "360102", "360103", "360104", "360111", "360112", "360113",
        "360121", "360123", "360124",
    }  # fmt: skip
    province = Place.objects.get(code="360000")
    assert Place.objects.subtree_of(province).count() == 112
    donghu = Place.objects.get(code="360102")
    assert [p.code for p in donghu.ancestors()] == ["360000", "360100"]
    assert donghu.path == "/360000/360100/360102/"
    # 360100 is a prefix of no other city's code range: 南昌 does not reach 景德镇.
    assert not Place.objects.subtree_of(nanchang).filter(code="360202").exists()


def test_changed_row_is_updated_and_a_moved_parent_moves_its_path(tiny_province):
    text = tiny_province.read_text(encoding="utf-8")
    tiny_province.write_text(text.replace("东湖区", "东湖新区"), encoding="utf-8")
    counts = services.load_divisions(tiny_province)
    assert (counts.created, counts.updated, counts.unchanged) == (0, 1, 4)
    assert Place.objects.get(code="360102").name_zh == "东湖新区"


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


HEADER = "code,name_zh,name_en,level,parent_code,unit_type"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad_row", "line", "field"),
    [
        ("360102,东湖区,Donghu District,county,369900,district", 4, "parent_code"),
        ("360102,东湖区,Donghu District,town,360100,district", 4, "level"),
        ("36010,东湖区,Donghu District,county,360100,district", 4, "code"),
        ("360102,东湖区,Donghu District,county,360100,borough", 4, "unit_type"),
        ("360100,南昌市,Nanchang City,city,360000,prefecture_city", 4, "code"),
        # Only a province may be a root beside the nation; the nation has no parent.
        ("360500,新余市,Xinyu City,city,,prefecture_city", 4, "parent_code"),
        ("100000,中华人民共和国,China,nation,360000,nation", 4, "parent_code"),
    ],
)
def test_bad_row_names_line_and_field_and_writes_nothing(tmp_path, bad_row, line, field):
    path = _write(
        tmp_path / "bad.csv",
        [
            HEADER,
            "360000,江西省,Jiangxi Province,province,,province",
            "360100,南昌市,Nanchang City,city,360000,prefecture_city",
            bad_row,
        ],
    )
    with pytest.raises(services.PlacesDataError, match=rf"第 {line} 行，字段 {field}"):
        services.load_divisions(path)
    assert not Place.objects.exists()


@pytest.mark.django_db
def test_missing_column_is_named(tmp_path):
    path = _write(tmp_path / "bad.csv", ["code,name_zh,level", "360000,江西省,province"])
    with pytest.raises(services.PlacesDataError, match="name_en, parent_code, unit_type"):
        services.load_divisions(path)
