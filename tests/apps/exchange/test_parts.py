"""The optional parts of a package (format 1.1): the sender's release, problem list and
project list mapped to the receiver's codes; the receiver judging each part whole,
storing the accepted ones with provenance and showing them per peer and round."""

import datetime as dt
import io
import json

import pandas as pd
import pytest
from django.utils import timezone

from citycheck.assessment.models import Release, ReleaseStatus, Result
from citycheck.diagnosis.models import Problem
from citycheck.exchange import package, services
from citycheck.exchange.models import (
    OutgoingPackage,
    PeerRelation,
    ReceivedPackage,
    ReceivedRecord,
)
from citycheck.renewal.models import RenewalProject

from .test_receive import document, post, rows, units
from .test_submit import write_mapping

ALL_PARTS = (package.RELEASE, package.PROBLEMS, package.PROJECTS)


def _problem(round_, place, pk_hint, causes):
    return Problem.objects.create(
        round=round_,
        place=place,
        disease=f"disease_{pk_hint}",
        disease_name="公园绿地不足",
        dimension="ecology",
        severity="moderate",
        points=3,
        causes=[{"indicator": code} for code in causes],
        explanation="绿地不足",
        first_year=round_.year,
    )


@pytest.fixture
def reported(small_province):
    """The open round's published release, a problem and a project addressing it."""
    round_, county = small_province.open_round, small_province.places["county"]
    release = Release.objects.create(
        round=round_,
        scope=small_province.places["province"],
        status=ReleaseStatus.PUBLISHED,
        method_code="test-method",
        method_version=1,
        method_text="",
        code_version="t",
        input_digest="d" * 64,
        published_at=timezone.now(),
    )
    for level, code, value in (
        ("index", "index", None),
        ("indicator", "built_density", 12.0),
        ("indicator", "waterlogging", 3.0),  # no national counterpart
    ):
        Result.objects.create(
            release=release,
            place=county,
            level=level,
            code=code,
            name_zh=code,
            value=value,
            score=70.5,
            rank=2,
            place_count=4,
        )
    problem = _problem(round_, county, 1, ["green_space", "waterlogging"])
    project = RenewalProject.objects.create(
        place=county,
        year=2025,
        name="口袋公园",
        project_type="park",
        budget=1200.5,
        start=dt.date(2025, 3, 1),
        end=dt.date(2025, 12, 31),
    )
    project.problems.add(problem)
    return {"release": release, "problem": problem, "project": project}


def _table(document_, name):
    return pd.read_csv(io.StringIO(document_["parts"][name]), dtype=str, keep_default_na=False)


def test_the_sender_adds_the_parts_mapped_to_the_receivers_codes(
    small_province, instance, reported
):
    write_mapping(instance, version="2", density_unit="万人/km²", factor=0.0001)
    peer = services.save_peer(
        code="national",
        name="国家",
        relation=PeerRelation.UPPER,
        public_key=package.public_key_of(package.new_private_key()),
        url="",
    )
    admin = small_province.users["province_admin"]
    outgoing = services.prepare_package(
        small_province.open_round, peer, acting_user=admin, parts=ALL_PARTS
    )
    document_ = json.loads(outgoing.package)
    assert document_["format_version"] == "1.1"
    described = {p["name"]: p for p in document_["manifest"]["parts"]}
    assert set(described) == {package.OBSERVATIONS, *ALL_PARTS}
    for name in ALL_PARTS:
        text = document_["parts"][name].encode("utf-8")
        assert described[name]["sha256"] == package.sha256_hex(text)
    assert described[package.RELEASE]["release"]["method"] == "test-method"
    release = _table(document_, package.RELEASE)
    assert release["CODE"].tolist() == ["index", "N2"]  # waterlogging has no counterpart
    assert release["RANK"].tolist() == ["2", "2"] and release.loc[0, "VALUE"] == ""
    assert float(release.loc[1, "VALUE"]) == pytest.approx(12.0 * 0.0001)
    assert _table(document_, package.PROBLEMS)["INDICATORS"].tolist() == ["N1"]
    projects = _table(document_, package.PROJECTS)
    assert projects[["NAME", "PROBLEMS", "START", "BUDGET"]].values.tolist() == [
        ["口袋公园", str(reported["problem"].pk), "2025-03-01", "1200.5"]
    ]
    # Without a published release, asking for it is refused before anything is written.
    Release.objects.update(status=ReleaseStatus.DRAFT)
    with pytest.raises(services.ExchangeError, match="已发布"):
        services.prepare_package(
            small_province.open_round, peer, acting_user=admin, parts=(package.RELEASE,)
        )
    assert OutgoingPackage.objects.count() == 1


def _parts(problem_indicator="green_space"):
    release = pd.DataFrame(
        [
            ["360102", "index", "index", None, 71.25, 1, 2, "green"],
            ["360102", "indicator", "green_space", 12.5, 80.0, 1, 2, ""],
        ],
        columns=package.EXTRA_PARTS[package.RELEASE],
    )
    problems = pd.DataFrame(
        [
            [
                "360102",
                "7",
                "d",
                "公园绿地不足",
                "eco",
                "severe",
                4,
                "confirmed",
                problem_indicator,
                "…",
            ]
        ],
        columns=package.EXTRA_PARTS[package.PROBLEMS],
    )
    projects = pd.DataFrame(
        [
            [
                "360102",
                "9",
                "口袋公园",
                "park",
                2025,
                "adopted",
                300.0,
                "2025-03-01",
                "2025-12-31",
                "7",
            ]
        ],
        columns=package.EXTRA_PARTS[package.PROJECTS],
    )
    return {
        package.RELEASE: (release, {"release": {"method": "m", "method_version": 1}}),
        package.PROBLEMS: (problems, {}),
        package.PROJECTS: (projects, {}),
    }


def test_the_receiver_stores_good_parts_with_provenance_and_refuses_a_bad_part_whole(
    client, small_province, nanchang, peer_key, system_code
):
    unit = units(small_province)
    frame = rows(("360102", "green_space", 12.25, unit["green_space"])).assign(DATAFLOW=system_code)
    doc = document(
        frame,
        peer_key,
        dataflow=system_code,
        extra_parts=_parts(problem_indicator="nope;green_space"),
    )
    body = post(client, doc).json()["body"]
    verdicts = {p["name"]: p for p in body["parts"]}
    assert body["state"] == "partially_accepted" and body["format_version"] == "1.1"
    assert verdicts[package.RELEASE]["state"] == verdicts[package.PROJECTS]["state"] == "accepted"
    bad = verdicts[package.PROBLEMS]
    assert bad["state"] == "rejected"
    assert [(r["row"], r["column"], r["reason"]) for r in bad["rejections"]] == [
        (1, "INDICATORS", "unknown_indicator")
    ]
    received = ReceivedPackage.objects.get()
    stored = ReceivedRecord.objects.filter(package=received)
    assert sorted(stored.values_list("part", flat=True)) == [
        package.PROJECTS,
        package.RELEASE,
        package.RELEASE,
    ]
    assert stored.get(part=package.PROJECTS).data["NAME"] == "口袋公园"
    assert body["counts"]["accepted"] == 1  # the observation went in all the same

    # The fixed problem list in a later package: the page shows every part, each from
    # the package that brought it.
    fixed = document(
        frame, peer_key, package_id="nanchang-2024-2", dataflow=system_code, extra_parts=_parts()
    )
    assert post(client, fixed).json()["body"]["state"] == "accepted"
    client.force_login(small_province.users["province_admin"])
    page = client.get(
        f"/exchange/peers/{nanchang.pk}/rounds/{small_province.open_round.pk}/"
    ).content.decode()
    assert 'data-testid="part-problems.csv"' in page and "公园绿地不足" in page
    assert "nanchang-2024-2" in page and 'data-testid="part-release.csv"' in page


def test_a_part_naming_a_place_outside_the_sender_is_refused_and_nothing_of_it_stored(
    client, small_province, nanchang, peer_key, system_code
):
    parts = _parts()
    release, about = parts[package.RELEASE]
    parts[package.RELEASE] = (release.assign(REF_AREA=["360102", "360402"]), about)  # 九江
    doc = document(
        rows().reindex(columns=package.COLUMNS), peer_key, dataflow=system_code, extra_parts=parts
    )
    body = post(client, doc).json()["body"]
    verdict = next(p for p in body["parts"] if p["name"] == package.RELEASE)
    assert verdict["state"] == "rejected"
    assert verdict["rejections"][0]["reason"] == "unknown_place"
    assert not ReceivedRecord.objects.filter(part=package.RELEASE).exists()
