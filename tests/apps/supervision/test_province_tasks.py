"""The province's task list as data (22 tasks with their departments, checked with
file, line and field) and the departments' monthly status."""

import datetime as dt

import pytest
import yaml
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from citycheck.accounts.models import Department
from citycheck.core.choices import Role
from citycheck.supervision import province_tasks
from citycheck.supervision.appraisals import SchemeError
from citycheck.supervision.models import ProvinceTask
from citycheck.testing import build_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(small_province):
    listed = yaml.safe_load((settings.DATA_DIR / "departments.yaml").read_text(encoding="utf-8"))
    for row in listed["departments"]:
        Department.objects.get_or_create(code=row["code"], defaults={"name_zh": row["name_zh"]})
    admin = small_province.users[Role.PROVINCE_ADMIN]
    assert province_tasks.load_tasks(acting_user=admin) == 22
    return small_province


def test_the_shipped_list_loads_with_its_departments(loaded):
    task = ProvinceTask.objects.get(number=18)
    assert task.title == "系统治理排水防涝" and task.programme_number == 6
    assert sorted(task.departments.values_list("code", flat=True)) == [
        "ecology_environment",
        "housing",
        "water",
    ]


def test_an_unknown_department_is_refused_with_its_line(loaded, tmp_path):
    text = province_tasks.tasks_path().read_text(encoding="utf-8")
    bad = text.replace(
        "departments: [housing, water, ecology_environment]", "departments: [housing, rain]"
    )
    path = tmp_path / "plan_tasks.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(SchemeError) as exc:
        province_tasks.read_tasks(path)
    (issue,) = exc.value.issues
    line = next(i for i, row in enumerate(bad.splitlines(), 1) if "rain]" in row)
    assert (issue.line, issue.field) == (line, "departments") and "rain" in issue.message


def test_a_department_reports_only_on_its_tasks(loaded, client):
    water = Department.objects.get(code="water")
    filler = build_user("water_dept", Role.DEPARTMENT_FILLER, loaded.places["province"], water)
    drainage, mechanism = ProvinceTask.objects.get(number=18), ProvinceTask.objects.get(number=1)
    june = dt.date(2025, 6, 1)
    province_tasks.report_status(
        drainage, month=june, department=water, status="in_progress", acting_user=filler
    )
    with pytest.raises(PermissionDenied):
        province_tasks.report_status(
            mechanism, month=june, department=water, status="done", acting_user=filler
        )
    client.force_login(filler)
    page = client.get(reverse("supervision:province_tasks"), {"month": "2025-06"}).content.decode()
    assert "推进中" in page
    bad = client.get(reverse("supervision:province_tasks"), {"month": "2025-13"})
    assert bad.status_code == 400
