"""The annual assessment: the scheme file checked with file, line and field; scores
computed from the platform's records with their evidence; hand scores and adjustments
refused without evidence or reason; issue; places see only their own, once issued."""

import datetime as dt

import pytest
from django.urls import reverse

from citycheck.collection.models import Source, Submission
from citycheck.core.choices import Role
from citycheck.core.models import ChangeRecord
from citycheck.supervision import appraisals, dispatch
from citycheck.supervision.models import AppraisalScore, AppraisalTotal

pytestmark = pytest.mark.django_db

SCHEME = appraisals.scheme_path(2024)


def write(tmp_path, text):
    path = tmp_path / "appraisal-2024.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_scheme_is_valid():
    scheme = appraisals.load_scheme(SCHEME)
    scored = sum(c["weight"] for c in scheme["criteria"] if c["kind"] in ("computed", "manual"))
    assert scored == 100


def test_bad_schemes_are_refused_with_file_line_and_field(tmp_path):
    text = SCHEME.read_text(encoding="utf-8")
    bad = text.replace(
        "weight: 15\n    record: collection.adopted_values",
        "weight: 14\n    record: collection.adopted_values",
    )
    with pytest.raises(appraisals.SchemeError) as exc:
        appraisals.load_scheme(write(tmp_path, bad))
    assert "criteria" in str(exc.value) and "99" in str(exc.value)
    bad = text.replace("record: renewal.projects_on_schedule", "record: renewal.nothing")
    with pytest.raises(appraisals.SchemeError) as exc:
        appraisals.load_scheme(write(tmp_path, bad))
    (issue,) = exc.value.issues
    line = next(i for i, row in enumerate(bad.splitlines(), 1) if "renewal.nothing" in row)
    assert (issue.line, issue.field) == (line, "record")
    assert issue.file.endswith("appraisal-2024.yaml")
    bad = text.replace(
        "kind: manual\n    weight: 10", "kind: manual\n    weight: 10\n    record: x"
    )
    with pytest.raises(appraisals.SchemeError, match="只有 computed"):
        appraisals.load_scheme(write(tmp_path, bad))


def test_compute_adjust_and_issue(province, media_root, admin):
    province_user = admin
    # 东湖区's self-check submission of 2024 was submitted on time, 西湖区's late
    round_ = province.open_round
    round_.deadline = dt.date(2025, 3, 31)
    round_.save()
    for label, day in (("county", dt.date(2025, 3, 1)), ("sibling_county", dt.date(2025, 4, 9))):
        Submission.objects.update_or_create(
            round=round_,
            place=province.places[label],
            source=Source.SELF_CHECK,
            department=None,
            defaults={
                "status": "accepted",
                "submitted_at": dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC),
            },
        )
    june = dispatch.open_month(dt.date(2024, 6, 1), acting_user=admin)
    dispatch.submit_report(
        june.reports.get(place=province.places["city"]),
        summary="按时",
        acting_user=province.users[Role.CITY_ADMIN],
        submitted_on=dt.date(2024, 7, 1),
    )
    appraisal = appraisals.compute_appraisal(2024, acting_user=province_user)
    score = {
        (s.place.code, s.criterion): s
        for s in AppraisalScore.objects.filter(appraisal=appraisal).select_related("place")
    }
    assert score[("360102", "check_timeliness")].measure == 1
    assert score[("360103", "check_timeliness")].measure == 0
    assert (
        score[("360103", "check_timeliness")].evidence["text"]
        == "截止日期 2025-03-31 前提交 0 / 填报 1 份"
    )
    assert score[("360100", "dispatch_on_time")].points == 10
    assert score[("360400", "dispatch_on_time")].points == 0
    assert score[("360102", "dispatch_on_time")].points == 10  # a county counts its city's
    assert score[("360102", "check_completeness")].measure == 1  # every indicator adopted

    manual = score[("360100", "organisation")]
    with pytest.raises(appraisals.AppraisalError, match="评分依据"):
        appraisals.score_by_hand(manual, points=8, evidence=" ", acting_user=admin)
    with pytest.raises(appraisals.AppraisalError, match="0 到 10"):
        appraisals.score_by_hand(manual, points=11, evidence="会议纪要", acting_user=admin)
    appraisals.score_by_hand(manual, points="8", evidence="会议纪要第3号", acting_user=admin)
    penalty = score[("360400", "false_data")]
    appraisals.score_by_hand(penalty, points=5, evidence="核查发现数据失实", acting_user=admin)

    computed = score[("360400", "check_timeliness")]
    with pytest.raises(appraisals.AppraisalError, match="理由"):
        appraisals.adjust_score(computed, points=5, reason="", acting_user=admin)
    appraisals.adjust_score(computed, points=5, reason="延期经省级批准", acting_user=admin)
    computed.refresh_from_db()
    assert computed.adjusted_from is not None and computed.points == 5
    event = ChangeRecord.objects.get(event="appraisal_adjusted", object_id=str(computed.pk))
    assert event.note == "延期经省级批准" and event.user == admin

    totals = {
        t.place.code: t
        for t in AppraisalTotal.objects.filter(appraisal=appraisal).select_related("place")
    }
    nanchang = sum(
        s.points for s in AppraisalScore.objects.filter(appraisal=appraisal, place__code="360100")
    )
    assert totals["360100"].total == pytest.approx(round(nanchang, 2))
    assert {totals["360100"].rank, totals["360400"].rank} == {1, 2}
    assert totals["360400"].total < totals["360100"].total  # the penalty counts

    # a city sees nothing of a draft, its own scores once issued, never another's
    from django.test import Client

    city = Client()
    city.force_login(province.users[Role.CITY_ADMIN])
    place_url = reverse("supervision:appraisal_place", args=[appraisal.pk, "360100"])
    assert city.get(place_url).status_code == 404
    issued = appraisals.issue_appraisal(appraisal, acting_user=admin)
    assert (media_root / issued.files["pdf"]).stat().st_size > 1000
    page = city.get(place_url).content.decode()
    assert "会议纪要第3号" in page
    assert (
        city.get(reverse("supervision:appraisal_place", args=[appraisal.pk, "360400"])).status_code
        == 404
    )
    with pytest.raises(appraisals.AppraisalError, match="已印发"):
        appraisals.adjust_score(computed, points=6, reason="再调", acting_user=admin)

    again = appraisals.compute_appraisal(2024, acting_user=admin)
    assert again.supersedes == issued


def test_the_2025_scheme_counts_satisfaction_and_warnings():
    records = {
        c["record"] for c in appraisals.load_scheme(appraisals.scheme_path(2025))["criteria"]
    }
    assert {
        "survey.satisfaction",
        "survey.satisfaction_change",
        "monitoring.warnings_handled",
    } <= records


def test_satisfaction_records(province):
    from citycheck.survey.models import Kind, Questionnaire, Score, Survey

    questionnaire = Questionnaire.objects.create(code="q", version=2021, name_zh="问卷")
    places = [province.places["city"], province.places["other_city"], province.places["county"]]
    for round_, scores in ((province.published_round, (80, 70)), (province.open_round, (83, 60))):
        survey = Survey.objects.create(round=round_, questionnaire=questionnaire)
        for place, score in zip(places, scores, strict=False):
            Score.objects.create(
                survey=survey,
                place=place,
                kind=Kind.OVERALL,
                code="overall",
                n=100,
                effective_n=90,
                score=score,
            )
    level = appraisals.RECORDS["survey.satisfaction"].compute(2024, places)
    change = appraisals.RECORDS["survey.satisfaction_change"].compute(2024, places)
    assert level[places[0].pk][0] == pytest.approx(0.83)
    assert change[places[0].pk][0] == pytest.approx(0.8)  # +3 points
    assert change[places[1].pk][0] == 0  # -10 points
    assert places[2].pk not in level  # no survey score: no points


def test_warnings_handled_in_time(db):
    from citycheck.core.models import record_event
    from citycheck.monitoring.models import EarlyWarning, Rule
    from citycheck.monitoring.testing import build_monitoring_province

    built = build_monitoring_province()
    rule = Rule.objects.exclude(indicator=None).first()
    city = built.places["city"]

    def warning(deadline):
        return EarlyWarning.objects.create(
            rule=rule,
            place=city,
            indicator=rule.indicator,
            department=rule.department,
            level=rule.level,
            period=dt.date(2024, 3, 1),
            value=1,
            raised=dt.datetime(2024, 3, 5, tzinfo=dt.UTC),
            deadline=deadline,
        )

    on_time = warning(dt.date(2099, 1, 1))
    record_event(on_time, "handled")
    warning(dt.date(2024, 4, 1))  # never handled, past its deadline
    warning(dt.date(2099, 1, 1))  # not due yet: not counted
    ((share, evidence),) = (
        appraisals.RECORDS["monitoring.warnings_handled"].compute(2024, [city]).values()
    )
    assert share == 0.5 and evidence["denominator"] == 2
