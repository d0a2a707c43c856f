"""Questionnaire files: the shipped one loads; bad files are refused with file, line and
field, and nothing is loaded."""

import shutil
import textwrap

import pytest
from django.conf import settings

from citycheck.survey import services
from citycheck.survey.models import Questionnaire
from citycheck.survey.questionnaire import read_questionnaire

from .conftest import QUESTIONNAIRE


def test_shipped_questionnaire_maps_every_rating_item_to_both_systems():
    spec, issues = read_questionnaire(QUESTIONNAIRE)
    assert issues == []
    assert 35 <= len(spec.items) <= 45
    likert = [i for i in spec.items if i["type"] == "likert"]
    assert all(i["level"] in {"dwelling", "compound", "block", "city"} for i in likert)
    assert all(i["text_en"] and i["text_zh"] for i in spec.items)
    assert {i["role"] for i in spec.items} >= {"place", "sex", "age_band", "tenure"}


BAD = """\
code: broken
version: 2024
name_zh: 坏问卷
dimensions_from: ../systems/national-2021.yaml
levels_from: ../systems/four-level-2023.yaml
scales:
  - {code: s5, points: 5, labels_zh: [一, 二, 三, 四, 五]}
items:
  - {code: place, type: place, role: place, text_zh: 地区}
  - {code: sex, type: single, role: sex, text_zh: 性别, options: [{code: m, text_zh: 男}]}
  - {code: age_band, type: single, role: age_band, text_zh: 年龄}
  - {code: parks, type: likert, scale: s5, dimension: parkland, text_zh: 公园}
  - {code: parks, type: likert, scale: s5, dimension: ecology, text_zh: 公园二}
  - {code: air, type: likert, dimension: ecology, text_zh: 空气}
"""


@pytest.fixture
def bad_file(tmp_path):
    folder = tmp_path / "survey"
    folder.mkdir()
    shutil.copytree(settings.DATA_DIR / "systems", tmp_path / "systems")
    path = folder / "broken.yaml"
    path.write_text(textwrap.dedent(BAD), encoding="utf-8")
    return path


def test_bad_questionnaire_is_refused_with_file_line_and_field(bad_file, db):
    _spec, issues = read_questionnaire(bad_file)
    found = {(issue.line, issue.field) for issue in issues}
    assert (11, "items[2].options") in found  # choice item without options
    assert (12, "items[3].dimension") in found  # unknown dimension
    assert (13, "items[4].code") in found  # duplicate item code
    assert (14, "items[5].scale") in found  # Likert without its scale
    assert all(issue.file == str(bad_file) for issue in issues)
    with pytest.raises(services.QuestionnaireFileError) as caught:
        services.import_questionnaire(bad_file)
    assert "broken.yaml:12: items[3].dimension" in str(caught.value)
    assert not Questionnaire.objects.exists()
