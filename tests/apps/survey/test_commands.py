"""citycheck survey import (dry run, all-or-nothing), weight and export."""

import csv
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from citycheck.survey.models import Response

from .conftest import synthetic_rows


def write_csv(path, rows):
    columns = list(rows[0])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)


def test_import_weight_export(surveyed, tmp_path):
    rows = synthetic_rows(["360102", "360103", "360402", "360403"], 25)
    bad = [dict(rows[0], eco_air="6"), *rows[1:]]
    path = tmp_path / "bad.csv"
    write_csv(path, bad)
    errors = StringIO()
    with pytest.raises(CommandError, match="1 处错误"):
        call_command("survey", "import", str(path), "--round", "2024", "--dry-run", stderr=errors)
    assert "第 2 行，eco_air 列" in errors.getvalue()
    with pytest.raises(CommandError):
        call_command("survey", "import", str(path), "--round", "2024", stderr=StringIO())
    assert not Response.objects.exists()
    write_csv(path, rows)
    call_command("survey", "import", str(path), "--round", "2024", stdout=StringIO())
    assert Response.objects.count() == 100
    out = StringIO()
    call_command("survey", "weight", "--round", "2024", "--as-user", "province_admin", stdout=out)
    assert "有效答卷 100 份" in out.getvalue()
    exported = tmp_path / "out.csv"
    call_command("survey", "export", "--round", "2024", "-o", str(exported), stdout=StringIO())
    with exported.open(encoding="utf-8-sig") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 100 and float(table[0]["weight"]) > 0
    assert "reference" not in table[0] and "device" not in table[0]
