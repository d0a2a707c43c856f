"""Pages: problem list and review, project library, project page and report, progress board."""

from django.test import Client
from django.urls import reverse

from citycheck.core.choices import Role
from citycheck.diagnosis import services as diagnosis
from citycheck.diagnosis.models import Problem, ProblemStatus
from citycheck.renewal.models import ProjectStatus, RenewalProject


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_problem_to_project_to_report_through_the_pages(province):
    diagnosis.run_diagnosis(province.open_round)
    admin = client_for(province.users[Role.PROVINCE_ADMIN])
    listing = admin.get(reverse("diagnosis:problem_list"), {"year": 2024})
    listed = listing.content.decode()
    assert listing.status_code == 200 and "浔阳区" in listed and "绿地不足" in listed
    problem = Problem.objects.get(round=province.open_round, disease="lack_of_green_space")
    page = admin.get(reverse("diagnosis:problem", args=[problem.pk])).content.decode()
    assert "人均公园绿地面积" in page and "4/4" in page
    admin.post(
        reverse("diagnosis:problem_review", args=[problem.pk]),
        {"status": "confirmed", "reason": "现场核实"},
    )
    problem.refresh_from_db()
    assert problem.status == ProblemStatus.CONFIRMED

    admin.post(reverse("renewal:project_propose"), {"year": 2024})
    project = RenewalProject.objects.get(project_type="parks_and_greenways")
    admin.post(reverse("renewal:project_status", args=[project.pk]), {"status": "adopted"})
    admin.post(
        reverse("renewal:project_report", args=[project.pk]),
        {"month": "2025-03", "percent_complete": "10"},
    )
    project.refresh_from_db()
    assert project.status == ProjectStatus.IN_PROGRESS
    page = admin.get(reverse("renewal:project", args=[project.pk])).content.decode()
    assert "2025-03" in page and "优先级" in page
    board = admin.get(reverse("renewal:progress_board"), {"as_of": "2025-11"}).content.decode()
    assert project.name in board and "进度滞后" in board


def test_pages_are_scoped(province):
    diagnosis.run_diagnosis(province.open_round)
    problem = Problem.objects.get(round=province.open_round, disease="waterlogging")
    nanchang = client_for(province.users[Role.CITY_ADMIN])
    assert nanchang.get(reverse("diagnosis:problem", args=[problem.pk])).status_code == 404
    assert (
        nanchang.post(
            reverse("diagnosis:problem_review", args=[problem.pk]),
            {"status": "dismissed", "reason": "x"},
        ).status_code
        == 404
    )
    assert "浔阳区" not in nanchang.get(reverse("diagnosis:problem_list")).content.decode()
    assert Client().get(reverse("renewal:project_list")).status_code == 302  # login first
