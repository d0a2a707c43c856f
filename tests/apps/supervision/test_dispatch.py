"""The monthly dispatch: a month opened for every city, a city's report with the
platform's figures, late and overdue cities, reminders, the board's change since last
month and the Excel sheet."""

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from openpyxl import load_workbook

from citycheck.core.choices import Role
from citycheck.core.models import ChangeRecord
from citycheck.supervision import dispatch, plans
from citycheck.supervision.models import DispatchStatus, PlanTask, TaskStatus

pytestmark = pytest.mark.django_db


def test_a_month_from_opening_to_closing(province, projects, admin):
    city = province.users[Role.CITY_ADMIN]
    with pytest.raises(PermissionDenied):
        dispatch.open_month(dt.date(2025, 5, 1), acting_user=city)
    may = dispatch.open_month(dt.date(2025, 5, 1), acting_user=admin)
    june = dispatch.open_month(
        dt.date(2025, 6, 15), deadline=dt.date(2025, 7, 5), acting_user=admin
    )
    assert june.month == dt.date(2025, 6, 1)
    assert [r.place.code for r in june.reports.order_by("place__code")] == ["360100", "360400"]

    plan = plans.save_plan(
        province.places["city"], title="方案", start_year=2021, end_year=2025, acting_user=city
    )
    task = plans.add_task(
        plan,
        title="公园建设",
        department="市园林局",
        deadline=dt.date(2025, 12, 31),
        acting_user=city,
    )
    nanchang_may = may.reports.get(place=province.places["city"])
    dispatch.submit_report(
        nanchang_may, summary="五月", acting_user=city, submitted_on=dt.date(2025, 6, 3)
    )
    nanchang = june.reports.get(place=province.places["city"])
    dispatch.submit_report(
        nanchang,
        summary="六月推进顺利",
        task_updates={task.pk: TaskStatus.DONE},
        acting_user=city,
        submitted_on=dt.date(2025, 7, 8),
    )
    nanchang.refresh_from_db()
    assert nanchang.late  # after the 5 July deadline
    assert PlanTask.objects.get(pk=task.pk).status == TaskStatus.DONE
    assert nanchang.figures["projects"] == 1
    assert nanchang.figures["reported"] == 1
    assert nanchang.figures["percent_complete"] == 60
    assert nanchang.figures["tasks_done"] == 1

    # another city's report is out of the city user's reach
    jiujiang = june.reports.get(place=province.places["other_city"])
    with pytest.raises(PermissionDenied):
        dispatch.submit_report(jiujiang, summary="x", acting_user=city)

    reminded = dispatch.remind(june, acting_user=admin)
    assert [r.place.code for r in reminded] == ["360400"]
    assert ChangeRecord.objects.filter(
        event="dispatch_reminded", object_id=str(jiujiang.pk)
    ).exists()

    rows = {row.report.place.code: row for row in dispatch.board(june, today=dt.date(2025, 7, 9))}
    assert rows["360400"].overdue and not rows["360100"].overdue
    changes = {key: change for key, _value, change in rows["360100"].figures}
    assert changes["percent_complete"] == 10  # 50 % in May → 60 % in June
    assert changes["tasks_done"] == 1

    stream = io.BytesIO()
    dispatch.export_sheet(june, stream, today=dt.date(2025, 7, 9))
    sheet = load_workbook(io.BytesIO(stream.getvalue())).active
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:3] == ("地区代码", "地区", "状态")
    assert table[1][0] == "360100" and table[1][4] == "是"  # late
    assert table[2][0] == "360400" and table[2][5] == 1  # one reminder

    dispatch.close_month(june, acting_user=admin)
    jiujiang.refresh_from_db()
    assert jiujiang.status == DispatchStatus.OVERDUE
    with pytest.raises(dispatch.DispatchError, match="已截止"):
        dispatch.submit_report(nanchang, summary="改", acting_user=city)


def test_board_pages(client, province, projects, admin):
    june = dispatch.open_month(dt.date(2025, 6, 1), acting_user=admin)
    client.force_login(province.users[Role.CITY_ADMIN])
    url = reverse("supervision:dispatch_report", args=[2025, 6, "360100"])
    assert client.post(url, {"summary": ""}).status_code == 400
    assert client.post(url, {"summary": "完成"}).status_code == 302
    assert client.get(reverse("supervision:dispatch_board", args=[2025, 6])).status_code == 403
    assert (
        client.get(reverse("supervision:dispatch_report", args=[2025, 6, "360400"])).status_code
        == 404
    )
    client.force_login(admin)
    board = client.get(reverse("supervision:dispatch_board", args=[2025, 6])).content.decode()
    assert "九江市" in board and "已报送" in board
    response = client.post(reverse("supervision:dispatch_action", args=[2025, 6, "close"]))
    assert response.status_code == 302
    june.refresh_from_db()
    assert june.status == "closed"
    export = client.get(reverse("supervision:dispatch_export", args=[2025, 6]))
    assert export.content[:2] == b"PK"
    assert (
        client.post(reverse("supervision:dispatch_list"), {"month": "2025年13月"}).status_code
        == 400
    )


def test_figures_follow_renewal_records_changed_between_two_reports(province, projects, admin):
    """The province's renewal figures of a month are taken once and reused by the next
    city's report — unless a renewal record changed in between (added, changed, deleted)."""
    from citycheck.renewal.models import ProgressReport
    from citycheck.renewal.services import report_progress

    june = dispatch.open_month(dt.date(2025, 6, 1), acting_user=admin)
    nanchang = june.reports.get(place=province.places["city"])
    jiujiang = june.reports.get(place=province.places["other_city"])
    dispatch.submit_report(nanchang, summary="六月", acting_user=admin)
    assert (nanchang.figures["projects"], nanchang.figures["percent_complete"]) == (1, 60)
    assert (
        dispatch.city_figures(province.places["other_city"], dt.date(2025, 6, 1))[
            "percent_complete"
        ]
        == 18
    )  # 0.3 × 60
    report_progress(  # corrected after 南昌市 reported
        projects["other_county"],
        month=dt.date(2025, 6, 1),
        percent_complete=40,
        acting_user=admin,
    )
    dispatch.submit_report(jiujiang, summary="六月", acting_user=admin)
    assert jiujiang.figures["percent_complete"] == 40
    ProgressReport.objects.filter(
        project=projects["other_county"], month__gte="2025-06-01"
    ).delete()
    figures = dispatch.city_figures(province.places["other_city"], dt.date(2025, 6, 1))
    assert figures["reported"] == 0 and figures["projects"] == 1


def test_warnings_handled_and_overdue_by_the_month_in_local_time(db):
    """Handled during the month (its days in Asia/Shanghai), and raised by its end, past
    the deadline and still open."""
    from citycheck.core.models import ChangeRecord, record_event
    from citycheck.monitoring.models import EarlyWarning, Rule
    from citycheck.monitoring.testing import build_monitoring_province

    built = build_monitoring_province()
    rule = Rule.objects.exclude(indicator=None).first()
    city = built.places["city"]

    def warning(raised, deadline):
        return EarlyWarning.objects.create(
            rule=rule,
            place=city,
            indicator=rule.indicator,
            department=rule.department,
            level=rule.level,
            period=dt.date(2024, 3, 1),
            value=1,
            raised=raised,
            deadline=deadline,
        )

    # 2024-03-31 17:00 UTC is 1 April in Shanghai: raised in April, not in March
    late_march = warning(dt.datetime(2024, 3, 31, 17, tzinfo=dt.UTC), dt.date(2024, 3, 20))
    overdue = warning(dt.datetime(2024, 3, 5, tzinfo=dt.UTC), dt.date(2024, 3, 20))
    for handled, at in (
        (
            warning(dt.datetime(2024, 3, 1, tzinfo=dt.UTC), dt.date(2099, 1, 1)),
            dt.datetime(2024, 2, 29, 16, 30, tzinfo=dt.UTC),
        ),  # 1 March, 00:30 local
        (late_march, dt.datetime(2024, 3, 31, 16, 30, tzinfo=dt.UTC)),
    ):  # 1 April
        record_event(handled, "handled")
        ChangeRecord.objects.filter(event="handled", object_id=str(handled.pk)).update(time=at)
    subtree = type(city).objects.subtree_of(city)
    assert dispatch._warnings(subtree, dt.date(2024, 3, 1)) == (1, 1)
    assert overdue.status in ("open", "acknowledged")
    assert dispatch._warnings(subtree, dt.date(2024, 4, 1)) == (1, 2)
