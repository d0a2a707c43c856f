"""The evaluation pages name what results store as codes: dimensions, peer groups, the
inputs of a diff and the method's choices, in the page's language."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from citycheck.assessment import services
from citycheck.assessment.methods import method_names, parse_method, value_name
from citycheck.core.choices import Role
from citycheck.indicators.models import Dimension

from .conftest import METHOD


@pytest.fixture
def published(province, method):
    admin = province.users[Role.PROVINCE_ADMIN]
    release = services.run_assessment(province.open_round, method, acting_user=admin)
    return services.publish_release(release, acting_user=admin)


def cells(page: str) -> list[str]:
    return [
        " ".join(re.sub(r"<[^>]+>", "", cell).split())
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", page, re.S)
    ]


def test_the_place_page_names_dimensions_and_the_peer_group(client, province, published):
    page = client.get(reverse("assessment:release_place", args=[published.pk, "360402"]))
    text = page.content.decode()
    row_cells = cells(text)
    assert "生态宜居" in row_cells and "安全韧性" in row_cells
    assert not {"livable", "safe"} & set(row_cells)
    assert "（中等城市）" in text and "medium" not in text
    assert '<span class="warning-dot red">红灯</span>' in text
    assert any(c.startswith(("≥ ", "≤ ")) for c in row_cells)
    assert not any(c.startswith((">= ", "<= ")) for c in row_cells)


def test_the_place_page_in_english_uses_the_english_dimension_names(client, province, published):
    Dimension.objects.filter(code="livable").update(name_en="Ecological liveability")
    client.cookies["django_language"] = "en"
    response = client.get(reverse("assessment:release_place", args=[published.pk, "360402"]))
    row_cells = cells(response.content.decode())
    assert "Ecological liveability" in row_cells
    assert "安全韧性" in row_cells  # no English name: the Chinese one
    assert response.context["radar"]["indicators"][0]["name"] == "Ecological liveability"
    assert "（Medium-sized city）" in response.content.decode()


def test_the_ranking_names_peer_groups_and_the_method(client, province, published):
    text = client.get(reverse("assessment:release", args=[published.pk])).content.decode()
    assert "中等城市" in cells(text) and "medium" not in cells(text)
    steps = re.search(r'<p id="method-steps".*?</p>', text, re.S).group(0)
    for name in (
        "极差标准化",
        "专家赋权 × 熵值法（乘积组合）",
        "等权",
        "加权算术平均",
        "加权几何平均",
    ):
        assert name in steps
    for code in ("minmax", "product", "entropy", "equal", "arithmetic", "geometric"):
        assert code not in steps


def test_the_diff_names_places_indicators_and_method_choices(client, province, method, published):
    province.adopt(province.open_round, "other_county_2", "green_space", 30.0)
    admin = province.users[Role.PROVINCE_ADMIN]
    changed = services.run_assessment(
        province.open_round,
        parse_method(METHOD.replace("index: geometric", "index: arithmetic")),
        acting_user=admin,
    )
    client.force_login(admin)
    text = client.get(
        reverse("assessment:release_diff") + f"?a={published.pk}&b={changed.pk}"
    ).content.decode()
    row_cells = cells(text)
    start = row_cells.index("采信值")
    assert row_cells[start : start + 4] == ["采信值", "浔阳区 · 人均公园绿地面积", "7", "30"]
    assert "360403|green_space" not in text
    assert "加权几何平均" in row_cells and "加权算术平均" in row_cells
    assert "本地区输入变更：人均公园绿地面积" in text
    assert "城市健康指数" in row_cells and "index" not in row_cells  # the level by name


def test_method_names_in_both_languages(method):
    assert method_names(method.content) == {
        "normalise": "极差标准化",
        "indicator_weights": "专家赋权 × 熵值法（乘积组合）",
        "dimension_weights": "等权",
        "dimension_aggregation": "加权算术平均",
        "index_aggregation": "加权几何平均",
    }
    with translation.override("en"):
        names = method_names(method.content)
    assert names["normalise"] == "Min-max normalisation"
    assert names["indicator_weights"] == "Expert weights × Entropy method (product)"
    assert names["dimension_weights"] == "Equal weights"
    ahp = parse_method(
        METHOD.replace(
            "dimensions: {method: equal}",
            "dimensions: {method: ahp, order: [livable, safe], pairwise: [[1, 2], [0.5, 1]]}",
        )
    )
    assert method_names(ahp.content)["dimension_weights"] == "层次分析法"
    assert value_name("uncertainty.normalisation", ["minmax", "percentile_rank"]) == (
        "极差标准化, 百分位排名"
    )
    assert value_name("steps.normalise.high", 100) == 100
