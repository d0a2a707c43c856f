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
from citycheck.renewal.models import RenewalProject
from tests.apps.renewal.conftest import library, province, test_catalogue  # noqa: F401
from tests.apps.renewal.test_services import GOOD_ROW, template

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


def project_upload(client, content, name="projects.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("renewal:project_import"), {"file": SimpleUploadedFile(name, content)}
    )


def test_an_exported_project_file_imports_back_with_its_text_unchanged(
    client,
    library,  # noqa: F811
):
    places, (park, _drainage, _nanchang) = library
    park.name = ATTACKS[0]
    park.save(update_fields=["name"])
    client.force_login(places.users[Role.PROVINCE_ADMIN])
    exported = client.get(reverse("renewal:project_export"), {"year": park.year}).content
    RenewalProject.objects.all().delete()
    answer = project_upload(client, exported)
    assert answer.status_code == 302, answer.content.decode()
    assert RenewalProject.objects.filter(name=ATTACKS[0]).exists()


@pytest.mark.parametrize("typed", ATTACKS)
def test_project_import_refuses_text_a_spreadsheet_reads_as_a_formula(
    client,
    province,  # noqa: F811
    tmp_path,
    typed,
):
    path = template(tmp_path / "projects.xlsx", [GOOD_ROW])
    workbook = load_workbook(path)
    name = workbook.active.cell(2, 2)
    name.value, name.data_type = typed, "s"  # typed as text, not a formula
    workbook.save(path)
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    page = project_upload(client, path.read_bytes()).content.decode()
    assert "项目库!B2: 含有公式" in page and not RenewalProject.objects.exists()


def test_project_import_refuses_a_doctype(client, province, tmp_path):  # noqa: F811
    from .test_malformed_input import rewrite_part, with_doctype

    path = template(tmp_path / "projects.xlsx", [GOOD_ROW])
    content = rewrite_part(path.read_bytes(), "xl/worksheets/sheet1.xml", with_doctype)
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    answer = project_upload(client, content)
    assert answer.status_code == 400 and "DOCTYPE" in answer.content.decode()
    assert not RenewalProject.objects.exists()
