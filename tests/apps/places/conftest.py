import csv

import pytest

from citycheck.places import services

# A small province for boundary tests: real codes, few rows, fast to load.
TINY_CODES = {"360000", "360100", "360102", "360103", "360121"}


@pytest.fixture
def jiangxi(db):
    """The shipped 112 Jiangxi places."""
    services.load_divisions()


@pytest.fixture
def tiny_province(db, tmp_path):
    """江西省, 南昌市 and three of its county-level units."""
    with services.DIVISIONS_FILE.open(encoding="utf-8") as file:
        rows = [row for row in csv.DictReader(file) if row["code"] in TINY_CODES]
    path = tmp_path / "tiny.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=services.DIVISION_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    services.load_divisions(path)
    return path
