"""The approval workflow: every transition, every refusal, and who may do what."""

import pytest
from django.core.exceptions import PermissionDenied

from citycheck.collection import adoption, services, workflow
from citycheck.collection.models import (
    ChangeChannel,
    RevisionStatus,
    Source,
    SubmissionStatus,
    Value,
    ValueChange,
    ValueComment,
)
from citycheck.core.models import ChangeRecord

from .conftest import GOOD_VALUES

pytestmark = pytest.mark.django_db

COUNTY = "360102"


def fill(province, code=COUNTY, user="county", values=None):
    return services.save_values(
        province.round, province.entries(code, values), acting_user=province.users[user]
    )


def test_full_path_submit_return_resubmit_approve_accept(province):
    users = province.users
    fill(province)
    submission = province.submission(COUNTY)
    workflow.submit_submission(submission, acting_user=users["county"])
    workflow.return_submission(submission, acting_user=users["city"], comment="学校数量请核实")
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.RETURNED
    assert (
        ValueComment.objects.filter(submission=submission, event="returned").get().text
        == "学校数量请核实"
    )
    fill(province, values={"schools": 41.0})
    workflow.submit_submission(submission, acting_user=users["county"])
    workflow.approve_submission(submission, acting_user=users["city"])
    workflow.accept_submission(submission, acting_user=users["reviewer"])
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.ACCEPTED
    events = list(
        ChangeRecord.objects.filter(kind="event", object_id=str(submission.pk))
        .order_by("pk")
        .values_list("event", flat=True)
    )
    assert events == ["submitted", "returned", "submitted", "city_approved", "accepted"]
    adopted = adoption.adopted_values(province.round)
    assert adopted.set_index("indicator").loc["schools", "value"] == 41.0


def test_submit_refused_while_required_values_are_missing(province):
    fill(province, values={"green_space_rate": 38.0})
    with pytest.raises(workflow.WorkflowError, match="缺少数值") as refused:
        workflow.submit_submission(
            province.submission(COUNTY), acting_user=province.users["county"]
        )
    assert set(refused.value.issues["indicator"]) >= {"schools", "share_a"}
    assert province.submission(COUNTY).status == SubmissionStatus.DRAFT


def test_submit_refused_on_errors(province):
    fill(province, values={**dict.fromkeys([]), "share_a": 70.0})  # shares now sum to 110
    fill(
        province,
        values={
            k: v
            for k, v in {
                "green_space_rate": 38.0,
                "park_green_area_per_capita": 12.0,
                "schools": 40.0,
                "share_b": 40.0,
                "resident_total": 50.0,
            }.items()
        },
    )
    with pytest.raises(workflow.WorkflowError, match="比例之和为 110"):
        workflow.submit_submission(
            province.submission(COUNTY), acting_user=province.users["county"]
        )


def test_warning_needs_a_written_explanation(province):
    values = {"green_space_rate": 75.0}  # beyond the plausible 10–60 %: a warning
    fill(province, values={**{k: v for k, v in province_values().items()}, **values})
    submission = province.submission(COUNTY)
    with pytest.raises(workflow.WorkflowError, match="1 项提示须在“说明”中解释"):
        workflow.submit_submission(submission, acting_user=province.users["county"])
    value = Value.objects.get(place__code=COUNTY, indicator__code="green_space_rate")
    services.save_values(
        province.round,
        [
            services.ValueEntry(
                value.place, value.indicator, 75.0, "新建湿地公园纳入统计", value.version
            )
        ],
        acting_user=province.users["county"],
    )
    workflow.submit_submission(submission, acting_user=province.users["county"])
    assert province.submission(COUNTY).status == SubmissionStatus.SUBMITTED


def province_values():
    from .conftest import GOOD_VALUES

    return dict(GOOD_VALUES)


def test_submitted_data_is_locked_and_revision_reopens_it(province):
    users = province.users
    fill(province)
    submission = province.submission(COUNTY)
    workflow.submit_submission(submission, acting_user=users["county"])
    with pytest.raises(services.LockedError):
        fill(province, values={"schools": 1.0})
    workflow.approve_submission(submission, acting_user=users["city"])
    workflow.accept_submission(submission, acting_user=users["province"])
    request = workflow.request_revision(
        submission, acting_user=users["county"], reason="统计口径调整"
    )
    with pytest.raises(workflow.WorkflowError):
        workflow.request_revision(submission, acting_user=users["county"], reason="again")
    with pytest.raises(PermissionDenied):
        workflow.decide_revision(request, grant=True, acting_user=users["city"])
    workflow.decide_revision(request, grant=True, acting_user=users["province"])
    request.refresh_from_db()
    assert request.status == RevisionStatus.GRANTED and request.reason == "统计口径调整"
    assert province.submission(COUNTY).status == SubmissionStatus.RETURNED
    fill(province, values={"schools": 42.0})
    stored = Value.objects.filter(place__code=COUNTY, indicator__code="schools")
    assert stored.get(source=Source.SELF_CHECK).value == 42.0
    # the province keeps its last accepted figure until the correction is accepted again
    adopted = stored.get(source=Source.ADOPTED)
    assert adopted.value == GOOD_VALUES["schools"]
    assert adopted.changes.get().channel == ChangeChannel.ACCEPTANCE


def test_refused_revision_keeps_the_lock(province):
    users = province.users
    fill(province)
    submission = province.submission(COUNTY)
    workflow.submit_submission(submission, acting_user=users["county"])
    workflow.approve_submission(submission, acting_user=users["city"])
    request = workflow.request_revision(submission, acting_user=users["county"], reason="改一下")
    workflow.decide_revision(request, grant=False, acting_user=users["city"], note="理由不充分")
    assert province.submission(COUNTY).status == SubmissionStatus.CITY_APPROVED


@pytest.mark.parametrize(
    ("step", "status"),
    [
        ("approve", SubmissionStatus.DRAFT),
        ("accept", SubmissionStatus.SUBMITTED),
        ("submit", SubmissionStatus.ACCEPTED),
        ("return_city", SubmissionStatus.CITY_APPROVED),
    ],
)
def test_transitions_refused_from_the_wrong_status(province, step, status):
    submission = province.submission(COUNTY)
    submission.status = status
    submission.save()
    users = province.users
    calls = {
        "approve": lambda: workflow.approve_submission(submission, acting_user=users["city"]),
        "accept": lambda: workflow.accept_submission(submission, acting_user=users["province"]),
        "submit": lambda: workflow.submit_submission(submission, acting_user=users["county"]),
        "return_city": lambda: workflow.return_submission(
            submission, acting_user=users["city"], comment="x"
        ),
    }
    with pytest.raises(workflow.WorkflowError):
        calls[step]()
    submission.refresh_from_db()
    assert submission.status == status


def test_return_needs_a_comment(province):
    fill(province)
    submission = province.submission(COUNTY)
    workflow.submit_submission(submission, acting_user=province.users["county"])
    with pytest.raises(workflow.WorkflowError, match="必须填写意见"):
        workflow.return_submission(submission, acting_user=province.users["city"], comment="  ")


def test_city_submission_goes_straight_to_the_province(province):
    users = province.users
    fill(province, code="360100", user="city")
    submission = province.submission("360100")
    workflow.submit_submission(submission, acting_user=users["city"])
    with pytest.raises(PermissionDenied):
        workflow.approve_submission(submission, acting_user=users["city"])
    workflow.accept_submission(submission, acting_user=users["reviewer"])
    assert province.submission("360100").status == SubmissionStatus.ACCEPTED


# --------------------------------------------------------------------------- permissions


def test_county_cannot_enter_or_submit_for_another(province):
    with pytest.raises(PermissionDenied, match="360103"):
        fill(province, code="360103", user="county")
    fill(province, code="360103", user="sibling")
    with pytest.raises(PermissionDenied):
        workflow.submit_submission(
            province.submission("360103"), acting_user=province.users["county"]
        )
    assert not Value.objects.filter(
        place__code="360103", updated_by=province.users["county"]
    ).exists()


def test_department_only_for_its_indicators(province):
    with pytest.raises(PermissionDenied, match="schools"):
        fill(province, user="housing", values={"schools": 3.0})
    fill(province, user="housing", values={"green_space_rate": 38.0})
    assert (
        Value.objects.get(indicator__code="green_space_rate").updated_by
        == province.users["housing"]
    )


def test_department_assignment_overrides_the_indicator_department(province):
    services.assign_department(
        province.round,
        province.indicators["schools"],
        province.departments["housing"],
        acting_user=province.users["province"],
    )
    fill(province, user="housing", values={"schools": 3.0})
    with pytest.raises(PermissionDenied):
        services.assign_department(
            province.round,
            province.indicators["schools"],
            province.departments["housing"],
            acting_user=province.users["city"],
        )


def test_evaluator_only_third_party_for_its_places(province):
    round_, users = province.round, province.users
    entries = province.entries(COUNTY)
    services.save_values(round_, entries, source=Source.THIRD_PARTY, acting_user=users["evaluator"])
    with pytest.raises(PermissionDenied):
        services.save_values(
            round_, entries, source=Source.SELF_CHECK, acting_user=users["evaluator"]
        )
    with pytest.raises(PermissionDenied):
        services.save_values(
            round_,
            province.entries("360104"),
            source=Source.THIRD_PARTY,
            acting_user=users["evaluator"],
        )
    with pytest.raises(PermissionDenied):
        services.save_values(
            round_, entries, source=Source.THIRD_PARTY, acting_user=users["county"]
        )


def test_city_approves_only_its_counties_and_province_accepts(province):
    users = province.users
    fill(province)
    submission = province.submission(COUNTY)
    workflow.submit_submission(submission, acting_user=users["county"])
    for user in ("other_city", "county", "reviewer", "public"):
        with pytest.raises(PermissionDenied):
            workflow.approve_submission(submission, acting_user=users[user])
    workflow.approve_submission(submission, acting_user=users["city"])
    for user in ("city", "county", "other_city"):
        with pytest.raises(PermissionDenied):
            workflow.accept_submission(submission, acting_user=users[user])


def test_only_province_manages_rounds(province):
    with pytest.raises(PermissionDenied):
        services.open_round(
            year=2025, system=province.system, places=[], acting_user=province.users["city"]
        )


# --------------------------------------------------------------------------- audit, adjudication


def test_every_value_change_is_audited(province):
    fill(province, values={"schools": 40.0})
    value = Value.objects.get(indicator__code="schools")
    services.save_values(
        province.round,
        [services.ValueEntry(value.place, value.indicator, 44.0, "新建两所", value.version)],
        acting_user=province.users["county"],
        reason="更正",
    )
    history = list(services.value_history(value, acting_user=province.users["city"]))
    assert [(h.old_value, h.new_value, h.user.username, h.channel) for h in history] == [
        (40.0, 44.0, "county", ChangeChannel.FORM),
        (None, 40.0, "county", ChangeChannel.FORM),
    ]
    assert history[0].reason == "更正" and history[0].new_note == "新建两所"
    with pytest.raises(PermissionDenied):
        services.value_history(value, acting_user=province.users["other_city"])


def test_unchanged_values_are_not_rewritten(province):
    fill(province)
    fill(province)
    assert ValueChange.objects.count() == len(province.indicators)
    assert set(Value.objects.values_list("version", flat=True)) == {1}


def test_discrepancy_and_adjudication(province):
    users = province.users
    fill(province)
    services.save_values(
        province.round,
        province.entries(COUNTY, {"schools": 50.0, "share_a": 60.5}),
        source=Source.THIRD_PARTY,
        acting_user=users["evaluator"],
    )
    frame = services.discrepancies(province.round, acting_user=users["province"]).set_index(
        "indicator"
    )
    assert bool(frame.loc["schools", "exceeds"]) and not bool(frame.loc["share_a", "exceeds"])
    assert frame.loc["schools", "relative_difference"] == pytest.approx(0.25)
    assert services.discrepancies(province.round, acting_user=users["other_city"]).empty
    with pytest.raises(PermissionDenied):
        services.adjudicate(
            province.round,
            province.places[COUNTY],
            province.indicators["schools"],
            chosen_source=Source.THIRD_PARTY,
            reason="现场核查",
            acting_user=users["city"],
        )
    decision = services.adjudicate(
        province.round,
        province.places[COUNTY],
        province.indicators["schools"],
        chosen_source=Source.THIRD_PARTY,
        reason="现场核查",
        acting_user=users["province"],
    )
    assert (decision.adopted_value, decision.self_check_value, decision.decided_by) == (
        50.0,
        40.0,
        users["province"],
    )
    adopted = adoption.adopted_values(province.round).set_index("indicator")
    assert (
        adopted.loc["schools", "value"] == 50.0
        and adopted.loc["schools", "source"] == Source.THIRD_PARTY
    )
    # the self-check is not accepted yet: its other values are not adopted
    assert "share_a" not in adopted.index
    # once accepted, the other values are adopted and the adjudicated one stays
    submission = province.submission(COUNTY)
    workflow.submit_submission(submission, acting_user=users["county"])
    workflow.approve_submission(submission, acting_user=users["city"])
    workflow.accept_submission(submission, acting_user=users["province"])
    adopted = adoption.adopted_values(province.round).set_index("indicator")
    assert adopted.loc["schools", "value"] == 50.0
    assert adopted.loc["share_a", "value"] == GOOD_VALUES["share_a"]
    assert adopted.loc["share_a", "source"] == Source.SELF_CHECK


def test_evidence_types_are_judged_by_content(province):
    submission = province.submission(COUNTY)
    user = province.users["county"]
    pdf = services.attach_evidence(submission, "证明.pdf", b"%PDF-1.7\n...", acting_user=user)
    assert pdf.content_kind == "pdf" and pdf.size == 12
    for name, content in [
        ("virus.exe", b"MZ\x90\x00"),
        ("fake.pdf", b"MZ\x90\x00payload"),
        ("script.png", b"<script>alert(1)</script>"),
        ("fake.docx", b"PK\x03\x04not a zip"),
    ]:
        with pytest.raises(services.CheckStepError, match=name.replace(".", r"\.")):
            services.attach_evidence(submission, name, content, acting_user=user)
    assert submission.evidence.count() == 1
