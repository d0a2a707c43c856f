"""Streets/townships below the county: the list's loading, the form's second choice, the
import's ``street`` column and the export; the form's cached blank questions."""

import csv
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from citycheck.survey import services
from citycheck.survey.models import Response, Street

from .conftest import enter, synthetic_rows
from .test_views import form_answers, link_url

STREETS = """county,code,name_zh,name_en,synthetic
360102,360102901,东湖示例街道甲,Donghu A,1
360102,360102902,东湖示例街道乙,Donghu B,1
360103,360103901,西湖示例街道甲,Xihu A,1
"""


@pytest.fixture
def streets(surveyed, tmp_path):
    cache.clear()
    path = tmp_path / "streets.csv"
    path.write_text(STREETS, encoding="utf-8")
    services.load_streets(path)
    return surveyed


def test_a_bad_street_list_is_refused_by_line_and_column_and_loads_nothing(surveyed, tmp_path):
    path = tmp_path / "streets.csv"
    path.write_text(
        STREETS
        + "999999,999999901,无此县,,1\n"  # line 5: unknown county
        + "360102,360103902,错码,,1\n"  # line 6: code outside its county
        + "360102,360102901,重复,,1\n"  # line 7: duplicate code
        + "360103,360103903,,,yes\n",  # line 8: no name, synthetic not 1/0
        encoding="utf-8",
    )
    errors = StringIO()
    with pytest.raises(CommandError, match="5 处错误"):
        call_command("survey", "streets", str(path), stderr=errors)
    text = errors.getvalue()
    for where in ("第 5 行，county 列", "第 6 行，code 列", "第 7 行，code 列"):
        assert where in text
    assert "第 8 行，name_zh 列" in text and "第 8 行，synthetic 列" in text
    assert not Street.objects.exists()
    path.write_text(STREETS, encoding="utf-8")
    call_command("survey", "streets", str(path), stdout=StringIO())
    assert Street.objects.filter(county__code="360102").count() == 2


def test_a_resident_picks_a_street_and_its_county_follows(streets, client):
    url = link_url(streets)
    page = client.get(url).content.decode()
    assert 'optgroup label="东湖区"' in page and "东湖示例街道乙" in page
    data = form_answers(page)
    del data["place"]  # only the street chosen: its county is the place
    data["street"] = "360102902"
    assert client.post(url, data).status_code == 200
    response = Response.objects.get()
    assert (response.place.code, response.street) == ("360102", "360102902")


def test_a_street_outside_the_chosen_county_or_unknown_is_refused(streets, client):
    url = link_url(streets)
    data = form_answers(client.get(url).content.decode(), county="360103")
    page = client.post(url, dict(data, street="360102901"))
    assert page.status_code == 400 and "东湖示例街道甲不属于所选的县" in page.content.decode()
    page = client.post(url, dict(data, street="360402901"))  # another city's: not offered
    assert page.status_code == 400 and "未知街道" in page.content.decode()
    assert not Response.objects.exists()


def test_import_takes_a_street_column_and_export_carries_it(streets, tmp_path):
    rows = synthetic_rows(["360102", "360103"], 3)
    rows[0]["street"] = "360102901"
    for row in rows[1:]:
        row["street"] = ""
    bad = [dict(rows[1], street="360103901")]  # row 2: 西湖区's street for 东湖区
    stored, issues = enter(streets, bad)
    assert stored == 0 and [(i.row, i.column) for i in issues] == [(2, "street")]
    assert enter(streets, rows)[0] == 6
    exported = tmp_path / "out.csv"
    call_command("survey", "export", "--round", "2024", "-o", str(exported), stdout=StringIO())
    with exported.open(encoding="utf-8-sig") as handle:
        table = list(csv.DictReader(handle))
    assert [r["street"] for r in table].count("360102901") == 1


def test_the_cached_blank_form_follows_language_and_the_street_list(surveyed, client, tmp_path):
    cache.clear()
    url = link_url(surveyed)
    assert "非常满意" in client.get(url).content.decode()
    english = client.get(url, headers={"accept-language": "en"}).content.decode()
    assert "Very satisfied" in english and "非常满意" not in english  # not the cached Chinese
    assert 'name="street"' not in client.get(url).content.decode()
    path = tmp_path / "streets.csv"
    path.write_text(STREETS, encoding="utf-8")
    services.load_streets(path)
    assert 'name="street"' in client.get(url).content.decode()
