"""Formula injection in the exports: text a spreadsheet would take as a formula (``=``,
``+``, ``-``, ``@``, tab, CR) is written as escaped text by every export (one writer,
``core.excel.append_row``). The Excel template and its upload: test_template_injection.py.
"""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from citycheck.core.choices import Role
from citycheck.diagnosis import services as diagnosis
from citycheck.diagnosis.models import Problem
from tests.apps.renewal.conftest import library, province, test_catalogue  # noqa: F401

pytestmark = pytest.mark.django_db

ATTACKS = ['=HYPERLINK("https://evil.example/","点击")', "+1+cmd|'/C calc'!A0", "-2+3", "@SUM(1)"]


def cells(content):
    sheet = load_workbook(io.BytesIO(content)).active
    return [cell for row in sheet.iter_rows() for cell in row]


def assert_escaped(content, texts):
    found = {cell.value: cell.data_type for cell in cells(content)}
    for text in texts:
        assert found.get("'" + text) == "s", (text, found)
    assert "f" not in found.values()


def test_project_export_escapes_name_and_unit(client, library):  # noqa: F811
    places, (park, _drainage, _nanchang) = library
    park.name, park.unit = ATTACKS[0], ATTACKS[3]
    park.save(update_fields=["name", "unit"])
    client.force_login(places.users[Role.PROVINCE_ADMIN])
    export = client.get(reverse("renewal:project_export"))
    assert export.status_code == 200
    assert_escaped(export.content, [ATTACKS[0], ATTACKS[3]])


def test_problem_export_escapes_the_review_reason(client, province):  # noqa: F811
    diagnosis.run_diagnosis(province.open_round)
    Problem.objects.filter(round=province.open_round).update(status_reason=ATTACKS[1])
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    export = client.get(reverse("diagnosis:problem_export"), {"year": province.open_round.year})
    assert export.status_code == 200
    assert_escaped(export.content, [ATTACKS[1]])
