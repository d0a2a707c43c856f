"""A problem's title and description: worded when shown, in the page's language, and the
description does not repeat the place, disease and severity shown beside it."""

import re

from django.test import Client
from django.urls import reverse
from django.utils import translation

from citycheck.core.choices import Role
from citycheck.diagnosis import services
from citycheck.diagnosis.models import Problem

CJK = re.compile(r"[\u4e00-\u9fff]")


def name_in_english(province):
    indicator = province.indicators["green_space"]
    indicator.name_en = "Park green space per capita"
    indicator.save()
    department = indicator.department
    department.name_en = "Housing and urban-rural development"
    department.save()


def test_the_description_leaves_the_title_to_the_page(province):
    services.run_diagnosis(province.open_round)
    green = Problem.objects.get(round=province.open_round, disease="lack_of_green_space")
    assert green.title == "绿地不足"
    assert green.description == (
        "人均公园绿地面积9m²/人，低于标准12（差3），在同类城市中位于后25%（第4/4名）。"
        "建议由住房城乡建设部门牵头研究解决。"
    )
    for problem in Problem.objects.all():
        # the engine's explanation is the place, disease and severity, then the description
        assert problem.explanation.endswith("：" + problem.description)
        assert not problem.description.startswith(problem.place.name_zh)
        assert f"存在{problem.disease_name}" not in problem.description
        assert f"（{problem.get_severity_display()}）" not in problem.description


def test_the_title_and_description_in_english(province):
    name_in_english(province)
    services.run_diagnosis(province.open_round)
    water = Problem.objects.get(round=province.open_round, disease="waterlogging")
    with translation.override("en"):
        assert water.title == "Urban waterlogging"  # the catalogue's name_en
        assert water.description == (
            "城市内涝积水点数量: 3 items, above the standard of 0 (over by 3), in the bottom 25% "
            "of peer cities (4 of 4). Related indicators that may be causes: Park green space "
            "per capita (short of the standard). Suggested lead: Housing and urban-rural "
            "development."
        )  # the waterlogging indicator has no English name: Chinese; its unit reads in English
        green = Problem.objects.get(round=province.open_round, disease="lack_of_green_space")
        assert not CJK.search(green.description)


def test_a_problem_stored_before_the_labels_is_worded_with_its_chinese_names(province):
    """Evidence written before it carried English names, decimals and direction."""
    services.run_diagnosis(province.open_round)
    green = Problem.objects.get(round=province.open_round, disease="lack_of_green_space")
    engine_keys = {"indicator", "name", "unit", "value", "comparison", "standard"}
    engine_keys |= {"standard_high", "gap", "colour", "peer_rank", "peer_count", "signals"}
    engine_keys |= {"trend_from", "trend_change", "consecutive_declines"}
    green.evidence = [
        {
            **{k: v for k, v in green.evidence[0].items() if k in engine_keys},
            "value": 9.1234,
            "signals": ["red_warning", "deterioration"],
            "trend_change": -0.154,
            "consecutive_declines": 2,
        }
    ]
    assert green.description.startswith(
        "人均公园绿地面积9.12m²/人，低于标准12（差3），近2年变差15.4%（连续2年变差）。"
    )
    green.evidence[0]["direction"] = "higher"
    assert "近2年下降15.4%" in green.description
    with translation.override("en"):
        assert green.description.startswith("人均公园绿地面积: 9.12 m²/person, below the standard")
        assert "down 15.4% over the last 2 years (worse 2 years in a row)" in green.description


def test_pages_and_export_show_title_and_description(province):
    name_in_english(province)
    services.run_diagnosis(province.open_round)
    client = Client()
    client.force_login(province.users[Role.PROVINCE_ADMIN])
    page = client.get(reverse("diagnosis:problem_list")).content.decode()
    assert "浔阳区存在" not in page and "人均公园绿地面积9m²/人" in page
    client.cookies["django_language"] = "en"
    page = client.get(reverse("diagnosis:problem_list")).content.decode()
    assert "Lack of green space" in page and "Park green space per capita: 9 m²/person" in page
    green = Problem.objects.get(round=province.open_round, disease="lack_of_green_space")
    detail = client.get(reverse("diagnosis:problem", args=[green.pk])).content.decode()
    assert "Lack of green space" in detail and "Suggested lead" in detail
    assert '<span class="warning-dot red">Red</span>' in detail  # the evidence's light
    api = client.get(reverse("diagnosis-api:problem-list"), {"disease": "lack_of_green_space"})
    assert api.json()["results"][0]["title"] == "Lack of green space"
