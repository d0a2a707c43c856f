"""Division changes: time series follow a place across a change of code."""

import pandas as pd
import pytest

from citycheck.places import services
from citycheck.places.models import DivisionChange, Place


@pytest.fixture
def changes(jiangxi):
    return services.load_division_changes()


def test_changes_load_once(changes):
    assert (changes.created, changes.updated, changes.unchanged) == (14, 0, 0)
    again = services.load_division_changes()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 14)


def test_successor_map_today_and_in_a_past_year(changes):
    today = services.successor_map()
    assert today["360782"] == "360703"  # 南康市 → 南康区
    assert today["361121"] == "361104"  # 上饶县 → 广信区
    assert today["360105"] == "360112"  # 湾里区 merged into 新建区
    assert "360112" not in today  # 红谷滩区 took only a part of 新建区
    assert "360402" not in today  # 庐山区 → 濂溪区 kept its code
    in_2015 = services.successor_map(2015)
    assert in_2015["360122"] == "360112"
    assert "361121" not in in_2015  # 上饶县 still existed in 2015


def test_successor_map_follows_chains(changes):
    province = Place.objects.get(code="360000")
    interim = Place.objects.create(
        code="369901", name_zh="过渡区", level="county", unit_type="district", parent=province,
        active=False,
    )  # fmt: skip
    DivisionChange.objects.create(
        predecessor_code="369900", predecessor_name="旧县", successor=interim,
        kind=DivisionChange.Kind.RECODE, effective_year=2011,
    )  # fmt: skip
    DivisionChange.objects.create(
        predecessor_code="369901", predecessor_name="过渡区",
        successor=Place.objects.get(code="360703"),
        kind=DivisionChange.Kind.RECODE, effective_year=2012,
    )  # fmt: skip
    assert services.successor_map()["369900"] == "360703"
    assert services.successor_map(2011)["369900"] == "369901"


def test_a_time_series_continues_across_changes(changes):
    series = pd.DataFrame(
        {
            "code": ["360782", "360782", "360703", "360703", "360105", "360122", "360112"],
            "year": [2011, 2012, 2014, 2015, 2014, 2014, 2016],
            "population": [80.0, 81.0, 83.0, 84.0, 10.0, 60.0, 75.0],
        }
    )
    before = series.copy()
    followed = services.follow_codes(series, "code")
    pd.testing.assert_frame_equal(series, before)  # input untouched
    nankang = followed[followed["code"] == "360703"]
    assert nankang["year"].tolist() == [2011, 2012, 2014, 2015]
    # A merge: 湾里区 and 新建县 in 2014 add up under 新建区.
    by_year = followed[followed["code"] == "360112"].groupby("year")["population"].sum()
    assert by_year.to_dict() == {2014: 70.0, 2016: 75.0}


def test_follow_codes_is_pure_with_an_explicit_map():
    frame = pd.DataFrame({"adcode": ["1", "2"]}, index=[10, 20])
    followed = services.follow_codes(frame, "adcode", {"1": "3"})
    assert followed["adcode"].tolist() == ["3", "2"]
    assert followed.index.tolist() == [10, 20]
    with pytest.raises(KeyError, match="code_column 'code'"):
        services.follow_codes(frame, "code", {})


def test_unknown_successor_names_line_and_field_and_writes_nothing(jiangxi, tmp_path):
    path = tmp_path / "changes.csv"
    path.write_text(
        "predecessor_code,predecessor_name,successor_code,kind,effective_year,source\n"
        "360782,南康市,360703,county_to_district,2013,x\n"
        "360199,某县,360199,county_to_district,2013,x\n",
        encoding="utf-8",
    )
    with pytest.raises(services.PlacesDataError, match="第 3 行，字段 successor_code"):
        services.load_division_changes(path)
    assert not DivisionChange.objects.exists()
