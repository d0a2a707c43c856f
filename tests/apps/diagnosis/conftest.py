"""The small test province with values that give a known problem list.

The shipped catalogue names the national system's codes; these tests use a catalogue of
the same shape over the test system's indicators (green_space, waterlogging).
"""

from pathlib import Path

import pytest
import yaml

from citycheck.diagnosis import services
from citycheck.engine.diagnosis import load_catalogue
from citycheck.testing import build_small_province

SHIPPED = Path(__file__).resolve().parents[3] / "data" / "diagnosis" / "diseases.yaml"

# (2023, 2024) adopted values per place label.
GREEN_SPACE = {
    "city": (14, 14),
    "other_city": (14, 14),
    "county": (16, 16),
    "sibling_county": (13, 13),
    "other_county": (12.5, 12.5),
    "other_county_2": (11, 9),  # red, last of the counties, 18 % worse
}
WATERLOGGING = {
    "city": (0, 0),
    "other_city": (0, 0),
    "county": (2, 0),  # a problem in 2023, resolved in 2024
    "sibling_county": (0, 0),
    "other_county": (0, 0),
    "other_county_2": (0, 3),
}


@pytest.fixture
def test_catalogue(tmp_path, monkeypatch):
    document = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    diseases = {d["code"]: d for d in document["diseases"]}
    green = {
        **diseases["lack_of_green_space"],
        "indicators": ["green_space"],
        "cause_indicators": [],
    }
    water = {
        **diseases["waterlogging"],
        "indicators": ["waterlogging"],
        "cause_indicators": ["green_space"],
    }
    document["diseases"] = [green, water]
    path = tmp_path / "diseases.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    catalogue = load_catalogue(path)
    monkeypatch.setattr(services, "catalogue", lambda: catalogue)
    return catalogue


@pytest.fixture
def province(db, test_catalogue):
    province = build_small_province()
    for round_, position in ((province.published_round, 0), (province.open_round, 1)):
        for code, table in (("green_space", GREEN_SPACE), ("waterlogging", WATERLOGGING)):
            for label, numbers in table.items():
                province.adopt(round_, label, code, numbers[position])
    return province
