"""Formula injection in the Excel template: a stored note that looks like a formula is
written escaped and comes back unchanged; text typed into any cell that a spreadsheet would
take as a formula (``=``, ``+``, ``-``, ``@``) is refused naming sheet, row and column,
while a negative number is fine."""

import io

import pytest
from openpyxl import load_workbook

from citycheck.collection import excel, services
from citycheck.collection.models import PendingUpload, Value
from tests.apps.check_step.test_excel import fill, row_of

from .conftest import GOOD_VALUES

pytestmark = pytest.mark.django_db

COUNTY = "360102"
NOTE = "-较上年下降，=SUM(A1)"


def template(province):
    return excel.build_template(
        province.round, [province.places[COUNTY]], acting_user=province.users["county"]
    )


def test_a_note_that_looks_like_a_formula_is_escaped_and_round_trips(province):
    services.save_values(
        province.round,
        province.entries(COUNTY, {"schools": 40.0}),
        acting_user=province.users["county"],
    )
    Value.objects.filter(indicator__code="schools").update(note=NOTE)
    content = template(province)
    sheet = load_workbook(io.BytesIO(content))[COUNTY]
    note = sheet.cell(row_of(content, "schools"), 8)
    assert (note.value, note.data_type) == ("'" + NOTE, "s")
    preview = excel.preview_upload(fill(content, GOOD_VALUES), acting_user=province.users["county"])
    excel.confirm_upload(preview.token, acting_user=province.users["county"])
    assert Value.objects.get(indicator__code="schools").note == NOTE


@pytest.mark.parametrize("typed", ["=1+1", "+1", "-1", "@SUM(1)"])
@pytest.mark.parametrize("column", [7, 8])
def test_text_that_a_spreadsheet_reads_as_a_formula_is_refused(province, typed, column):
    content = template(province)
    row = row_of(content, "schools")

    def type_text(workbook):
        workbook[COUNTY].cell(row, column).value = typed
        workbook[COUNTY].cell(row, column).data_type = "s"

    content = fill(content, GOOD_VALUES, edit=type_text)
    with pytest.raises(excel.UploadError) as refused:
        excel.preview_upload(content, acting_user=province.users["county"])
    assert (COUNTY, row, column) in [problem[:3] for problem in refused.value.problems]
    assert not Value.objects.exists() and not PendingUpload.objects.exists()


def test_a_negative_number_is_read_as_a_number_not_as_a_formula(province):
    content = fill(template(province), {**GOOD_VALUES, "schools": -3})
    with pytest.raises(excel.UploadError) as refused:
        excel.preview_upload(content, acting_user=province.users["county"])
    # Refused by the count rule (no negative counts), not as formula text.
    assert [problem[3] for problem in refused.value.problems] == ["中小学数量：-3 个 不能为负数。"]
