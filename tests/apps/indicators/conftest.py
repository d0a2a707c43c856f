"""A small, valid system file with inline registries; tests mutate one line of it."""

from pathlib import Path

import pytest

REPO_DATA = Path(__file__).resolve().parents[3] / "data"
SYSTEMS_DIR = REPO_DATA / "systems"

# Line numbers matter: the bad-file tests name the line they break.
SMALL_SYSTEM = """\
code: small
version: 2024
name_zh: 小体系
base_figures:
  - {code: park_area, name_zh: 公园绿地面积, unit: 公顷}
  - {code: people, name_zh: 常住人口, unit: 万人, range_low: 10, range_high: 100}
  - {code: area, name_zh: 建成区面积, unit: 平方公里}
departments:
  - {code: housing, name_zh: 住房城乡建设}
dimensions:
  - {code: ecology, name_zh: 生态宜居}
  - {code: safety, name_zh: 安全韧性}
indicators:
  - code: park_per_capita
    dimension: ecology
    name_zh: 人均公园绿地面积
    unit: 平方米/人
    direction: higher
    type: guiding
    tier: national
    formula: park_area / people
    department: housing
    source_kind: spatial
    rollup: ratio_of_sums
    citation: 国家园林城市评选标准
    standards:
      - {city_class: '', comparison: '>=', value: 10, warning_band: 1.5}
      - {city_class: mega, comparison: '>=', value: 9, warning_band: 1.5, is_target: true}
  - code: park_share
    dimension: safety
    name_zh: 公园绿地占比
    unit: '%'
    direction: range
    type: bottom_line
    tier: local
    formula: park_area / area
    source_kind: statistics
    decimals: 1
    rollup: ratio_of_sums
    definition_origin: own
    standards:
      - {comparison: between, value: 5, value_high: 15}
"""


@pytest.fixture
def small_system(tmp_path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_SYSTEM, encoding="utf-8")
    return path


@pytest.fixture
def write_variant(tmp_path):
    """Write SMALL_SYSTEM with one text replaced (which must occur exactly once)."""

    def write(old: str, new: str) -> Path:
        assert SMALL_SYSTEM.count(old) == 1, old
        path = tmp_path / "variant.yaml"
        path.write_text(SMALL_SYSTEM.replace(old, new), encoding="utf-8")
        return path

    return write
