"""A department filler sees and fills only its department's indicators, on the page and in
the Excel template of the place's data set, as the values API already did (issue 16 item 5)."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from citycheck.collection import services
from citycheck.collection.models import Source
from citycheck.core.choices import Role

pytestmark = pytest.mark.django_db


def test_the_department_sees_only_its_indicators_of_the_citys_data(client, small_province):
    province = small_province
    submission = services.submission_for(
        province.open_round, province.places["city"], Source.SELF_CHECK
    )
    client.force_login(province.users[Role.DEPARTMENT_FILLER])  # 住房城乡建设部门 of 南昌市
    page = client.get(reverse("collection:submission", args=[submission.pk])).content.decode()
    assert 'data-code="green_space"' in page and 'data-code="waterlogging"' in page
    assert 'data-code="built_density"' not in page  # 自然资源部门's
    template = client.get(reverse("collection:submission_template", args=[submission.pk]))
    cells = {
        str(cell.value)
        for sheet in load_workbook(io.BytesIO(template.content)).worksheets
        for row in sheet.iter_rows()
        for cell in row
    }
    assert "green_space" in cells and "built_density" not in cells
    # the city's administrator still sees the whole data set
    client.force_login(province.users[Role.CITY_ADMIN])
    page = client.get(reverse("collection:submission", args=[submission.pk])).content.decode()
    assert 'data-code="built_density"' in page
