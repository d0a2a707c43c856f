"""Ingest refusals by row, evaluation into warnings, and the warnings' life cycle with
its permissions, escalation and digests."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from citycheck.core.choices import Role
from citycheck.core.models import ChangeRecord
from citycheck.monitoring import services
from citycheck.monitoring.loading import MonitoringFileError, load_monitoring
from citycheck.monitoring.models import EarlyWarning, Observation, WarningStatus
from citycheck.monitoring.testing import series_rows

TODAY = dt.date(2025, 12, 15)


def _ingest(province, rows, feed="city_operation", **options):
    return services.ingest(rows, feed=province.feed(feed), today=TODAY, **options)


def test_bad_rows_are_refused_with_their_reason_and_nothing_is_written(province):
    rows = [
        {"place": "360100", "indicator": "waterlogging_points", "period": "2025-03", "value": 3},
        {"place": "999999", "indicator": "waterlogging_points", "period": "2025-03", "value": 3},
        {"place": "360100", "indicator": "no_such", "period": "2025-03", "value": 3},
        {"place": "360100", "indicator": "waterlogging_points", "period": "2025-13", "value": 3},
        {"place": "360100", "indicator": "waterlogging_points", "period": "2026-01", "value": 3},
        {
            "place": "360100",
            "indicator": "waterlogging_points",
            "period": "2025-04",
            "value": 3,
            "unit": "处",
        },
        {"place": "360100", "indicator": "waterlogging_points", "period": "2025-05", "value": "x"},
        {"place": "360100", "indicator": "waterlogging_points", "period": "2025-03", "value": 4},
        {"place": "360100", "indicator": "congestion_index", "period": "2025-03", "value": "1.5"},
    ]
    result = _ingest(province, rows)
    assert [(r.row, r.field) for r in result.refused] == [
        (2, "place"),
        (3, "indicator"),
        (4, "period"),
        (5, "period"),
        (6, "unit"),
        (7, "value"),
        (8, "value"),
    ]
    assert "2026-01" in result.refused[3].reason and "未来" in result.refused[3].reason
    assert "个" in result.refused[4].reason
    assert Observation.objects.count() == 0


def test_duplicate_with_same_value_is_a_no_op_and_different_value_is_refused(province):
    row = {"place": "360102", "indicator": "waterlogging_points", "period": "2025-03", "value": 3}
    assert _ingest(province, [row]).accepted == 1
    again = _ingest(province, [row])
    assert (again.accepted, again.unchanged, again.refused) == (0, 1, [])
    changed = _ingest(province, [dict(row, value=5)])
    assert changed.refused[0].field == "value" and "3.0" in changed.refused[0].reason
    assert list(Observation.objects.values_list("value", flat=True)) == [3.0]


def test_batch_id_makes_a_retry_a_replay_and_reuse_for_other_rows_an_error(province):
    rows = series_rows("360100", "congestion_index", [1.2, 1.3], dt.date(2025, 1, 1))
    first = _ingest(province, rows, batch_id="b-1")
    retry = _ingest(province, rows, batch_id="b-1")
    assert (first.accepted, retry.accepted, retry.replayed) == (2, 2, True)
    assert Observation.objects.count() == 2
    with pytest.raises(services.MonitoringError):
        _ingest(province, rows[:1], batch_id="b-1")


def test_scope_outside_the_place_or_feed_raises_and_writes_nothing(province):
    good = {"place": "360102", "indicator": "waterlogging_points", "period": "2025-03", "value": 1}
    other = dict(good, place="360402")
    with pytest.raises(services.ScopeError):
        _ingest(province, [good, other], scope=province.places["city"])
    with pytest.raises(services.ScopeError):
        _ingest(province, [dict(good, indicator="hotline_housing_complaints")])
    assert Observation.objects.count() == 0


def _drifting_province(province):
    """南昌市's congestion breaks its band, 东湖区 has too many waterlogging points."""
    start = dt.date(2024, 1, 1)
    rows = series_rows("360100", "congestion_index", [1.2] * 23 + [2.1], start)
    rows += series_rows("360102", "waterlogging_points", [2] * 23 + [30], start)
    rows += series_rows("360103", "waterlogging_points", [2] * 24, start)
    assert not _ingest(province, rows).refused


def test_evaluation_raises_each_warning_once_for_the_responsible_department(province):
    _drifting_province(province)
    counts = services.evaluate(TODAY)
    assert counts["raised"] == 2
    warnings = {w.rule.code: w for w in EarlyWarning.objects.all()}
    assert warnings["congestion_out_of_band"].place.code == "360100"
    assert warnings["congestion_out_of_band"].reference == 1.8
    flood = warnings["waterlogging_many"]
    assert (flood.place.code, flood.level, flood.department.code) == ("360102", "red", "housing")
    assert flood.deadline == TODAY + dt.timedelta(days=10)
    assert services.evaluate(TODAY)["raised"] == 0  # firing again: no duplicate
    assert ChangeRecord.objects.filter(event="raised").count() == 2


def test_life_cycle_department_handles_level_above_closes(province):
    _drifting_province(province)
    services.evaluate(TODAY)
    warning = EarlyWarning.objects.get(rule__code="waterlogging_many")
    users = province.users
    with pytest.raises(PermissionDenied):  # another city's administrator
        services.acknowledge(warning, acting_user=_other_city_admin(province))
    services.acknowledge(warning, acting_user=users[Role.DEPARTMENT_FILLER])
    with pytest.raises(services.MonitoringError):
        services.handle(warning, acting_user=users[Role.DEPARTMENT_FILLER], measures=" ")
    services.handle(warning, acting_user=users[Role.DEPARTMENT_FILLER], measures="疏通管网 3 处")
    with pytest.raises(PermissionDenied):  # the county itself cannot close its own warning
        services.close_out(warning, acting_user=users[Role.COUNTY_ADMIN])
    services.close_out(warning, acting_user=users[Role.CITY_ADMIN], note="已核实")
    warning.refresh_from_db()
    assert warning.status == WarningStatus.CLOSED
    events = list(
        ChangeRecord.objects.filter(object_id=str(warning.pk), kind="event")
        .order_by("pk")
        .values_list("event", "user__username")
    )
    assert events[1:] == [
        ("acknowledged", "department_filler"),
        ("handled", "department_filler"),
        ("closed_out", "city_admin"),
    ]


def _other_city_admin(province):
    from citycheck.testing import build_user

    return build_user("jiujiang", Role.CITY_ADMIN, province.places["other_city"])


def test_overdue_warnings_escalate_county_city_province_and_stop(province):
    _drifting_province(province)
    services.evaluate(TODAY)
    warning = EarlyWarning.objects.get(rule__code="waterlogging_many")
    day = warning.deadline + dt.timedelta(days=1)
    reached = []
    for _ in range(3):
        services.escalate_overdue(day)
        warning.refresh_from_db()
        reached.append(warning.escalated_to.code if warning.escalated_to else None)
        day = warning.deadline + dt.timedelta(days=1)
    assert reached == ["360100", "360000", "360000"]
    assert warning.escalations == 2


def test_daily_digest_one_mail_per_user_and_preference_respected(province):
    users = province.users
    users[Role.DEPARTMENT_FILLER].email = "housing@example.org"
    users[Role.DEPARTMENT_FILLER].save()
    users[Role.CITY_ADMIN].email = "city@example.org"
    users[Role.CITY_ADMIN].save()
    services.set_preference(users[Role.CITY_ADMIN], "none")
    _drifting_province(province)
    services.evaluate(TODAY)
    warning = EarlyWarning.objects.get(rule__code="waterlogging_many")
    services.escalate_overdue(warning.deadline + dt.timedelta(days=1))
    assert services.send_digests() == 1
    assert mail.outbox[0].to == ["housing@example.org"]
    assert "交通拥堵指数超出正常区间" not in mail.outbox[0].body  # transport's, not housing's
    assert services.send_digests() == 0


def test_rule_file_errors_name_file_line_and_field(province, tmp_path, settings):
    source = settings.DATA_DIR / "monitoring"
    for name in ("feeds.yaml", "indicators.yaml"):
        (tmp_path / name).write_text((source / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(
        "rules:\n"
        "  - code: a\n    name_zh: 甲\n    kind: threshold\n    indicator: congestion_index\n"
        "    threshold: 2\n    level: yellow\n    department: transport\n"
        "  - code: b\n    name_zh: 乙\n    kind: threshold\n    indicator: congestion_index\n"
        "    threshold: high\n    level: yellow\n    department: transport\n",
        encoding="utf-8",
    )
    with pytest.raises(MonitoringFileError) as error:
        load_monitoring(tmp_path)
    assert (error.value.line, error.value.field) == (9, "threshold")
    assert str(error.value).startswith(f"{tmp_path / 'rules.yaml'}:9: threshold:")


def test_bulk_frame_ingest_refuses_like_the_row_ingest_and_stores_the_same(province):
    import pandas as pd

    rows = [
        {"place": "360100", "indicator": "waterlogging_points", "period": "2025-03", "value": 3},
        {"place": "999999", "indicator": "waterlogging_points", "period": "2025-03", "value": 3},
        {"place": "360100", "indicator": "no_such", "period": "2025-03", "value": 3},
        {"place": "360100", "indicator": "waterlogging_points", "period": "2025-13", "value": 3},
        {"place": "360100", "indicator": "waterlogging_points", "period": "2026-01", "value": 3},
        {"place": "360100", "indicator": "waterlogging_points", "period": "2025-05", "value": "x"},
        {"place": "360100", "indicator": "waterlogging_points", "period": "2025-03", "value": 4},
    ]
    feed = province.feed("file_import")
    bulk = services.ingest_frame(pd.DataFrame(rows), feed=feed, batch_id="f1", today=TODAY)
    one = services.ingest(rows, feed=feed, today=TODAY, any_indicator=True)
    assert [(r.row, r.field) for r in bulk.refused] == [(r.row, r.field) for r in one.refused]
    assert Observation.objects.count() == 0
    good = pd.DataFrame(
        series_rows("360102", "waterlogging_points", [1.5, 2, 3], TODAY.replace(month=1))
    )
    assert services.ingest_frame(good, feed=feed, batch_id="f2", today=TODAY).accepted == 3
    again = services.ingest_frame(good, feed=feed, batch_id="f3", today=TODAY)
    assert (again.accepted, again.unchanged) == (0, 3)
    changed = services.ingest_frame(good.assign(value=9), feed=feed, batch_id="f4", today=TODAY)
    assert [r.row for r in changed.refused] == [1, 2, 3]
    assert sorted(Observation.objects.values_list("value", flat=True)) == [1.5, 2.0, 3.0]


def _index_definitions():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexdef",
            [Observation._meta.db_table],
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.parametrize("rebuild_from", [0, 10**9], ids=["indexes-rebuilt", "incremental"])
def test_bulk_load_stores_each_field_and_keeps_the_indexes(province, monkeypatch, rebuild_from):
    """The bulk path (binary COPY on PostgreSQL, into the table without its indexes when
    the load is large against the table) stores exactly the checked values, and the
    table's unique constraint and indexes are there again afterwards."""
    import pandas as pd
    from django.db import IntegrityError, connection, transaction

    monkeypatch.setattr(services, "REBUILD_INDEXES_FROM", rebuild_from)
    postgres = connection.vendor == "postgresql"
    before = _index_definitions() if postgres else []
    frame = pd.DataFrame(
        series_rows("360102", "waterlogging_points", [1.5, -2, 3.25], dt.date(1999, 11, 1))
        + series_rows("360100", "congestion_index", ["1,234.5"], dt.date(2025, 3, 1))
    )
    result = services.ingest_frame(
        frame, feed=province.feed("file_import"), batch_id="b1", today=TODAY
    )
    assert result.accepted == 4
    stored = list(
        Observation.objects.order_by("period").values_list(
            "place__code", "indicator__code", "period", "value", "source", "batch__batch_id"
        )
    )
    assert stored == [
        ("360102", "waterlogging_points", dt.date(1999, 11, 1), 1.5, "file_import", "b1"),
        ("360102", "waterlogging_points", dt.date(1999, 12, 1), -2.0, "file_import", "b1"),
        ("360102", "waterlogging_points", dt.date(2000, 1, 1), 3.25, "file_import", "b1"),
        ("360100", "congestion_index", dt.date(2025, 3, 1), 1234.5, "file_import", "b1"),
    ]
    received = Observation.objects.values_list("received", flat=True).first()
    assert abs((received - dt.datetime.now(dt.UTC)).total_seconds()) < 60
    if postgres:
        assert _index_definitions() == before
        first = Observation.objects.first()
        with pytest.raises(IntegrityError), transaction.atomic():
            Observation.objects.create(
                place_id=first.place_id,
                indicator_id=first.indicator_id,
                period=first.period,
                value=99,
                source="x",
            )
