"""Small crashes found by the probe: each bad input gets a clear refusal, never a 500 or a
traceback."""

import io
import zipfile

import pytest
from django.urls import reverse

from citycheck.collection.models import PendingUpload, Value
from tests.apps.check_step.test_excel import fill, template
from tests.apps.collection.test_views import HTMX, login, open_submission

from .conftest import GOOD_VALUES

pytestmark = pytest.mark.django_db


def rewrite_part(content: bytes, name: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry)
            target.writestr(entry, change(data) if entry.filename == name else data)
    return out.getvalue()


def with_doctype(xml: bytes) -> bytes:
    doctype = b'<!DOCTYPE x [<!ENTITY a "b">]>'
    if xml.startswith(b"<?xml"):
        declaration, rest = xml.split(b"?>", 1)
        return declaration + b"?>" + doctype + undefined_entity(rest)
    return doctype + undefined_entity(xml)


def undefined_entity(xml: bytes) -> bytes:
    return xml.replace(b"<sheetData>", b"<sheetData>&undefined;", 1)


def sheet_part(content: bytes, title: str) -> str:
    """The zip path of the sheet called ``title``."""
    from openpyxl import load_workbook

    index = load_workbook(io.BytesIO(content)).sheetnames.index(title)
    return f"xl/worksheets/sheet{index + 1}.xml"


def upload(client, province, content):
    login(client, province, "county")
    submission = open_submission(client, province)
    file = io.BytesIO(content)
    file.name = "filled.xlsx"
    return client.post(
        reverse("collection:submission_upload", args=[submission.pk]), {"file": file}, **HTMX
    )


@pytest.mark.parametrize(
    ("title", "change", "message"),
    [
        ("360102", with_doctype, "DOCTYPE"),
        ("360102", undefined_entity, "无法读取工作表"),
        ("_meta", undefined_entity, "无法读取工作表"),
    ],
)
def test_an_xlsx_with_a_doctype_or_an_undefined_entity_is_refused_clearly(
    client, province, title, change, message
):
    content = fill(template(province), GOOD_VALUES)
    content = rewrite_part(content, sheet_part(content, title), change)
    response = upload(client, province, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Value.objects.exists() and not PendingUpload.objects.exists()


@pytest.mark.parametrize("year", ["null", "2025.5", "99999999999999999999", "1"])
def test_progress_board_names_a_bad_year(client, province, year):
    client.force_login(province.users["province"])
    response = client.get("/api/renewal/progress-board/", {"year": year})
    assert response.status_code == 400 and "year" in response.json()


def test_progress_board_takes_a_good_year(client, province):
    client.force_login(province.users["province"])
    assert client.get("/api/renewal/progress-board/", {"year": "2025"}).status_code == 200
