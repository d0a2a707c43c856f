"""citycheck monitor import / evaluate / warnings / token."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from citycheck.monitoring.models import EarlyWarning, Observation
from citycheck.monitoring.testing import months


def _run(*args) -> str:
    out = StringIO()
    call_command("monitor", *args, stdout=out)
    return out.getvalue()


def test_import_evaluate_and_list(province, tmp_path):
    periods = months(dt.date(2024, 1, 1), 24)
    lines = ["place,indicator,period,value,unit"] + [
        f"360102,waterlogging_points,{p},{30 if n == 23 else 2},个" for n, p in enumerate(periods)
    ]
    path = tmp_path / "flood.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert "accepted 24" in _run("import", str(path))
    assert "imported before" in _run("import", str(path))
    assert Observation.objects.count() == 24
    assert "raised 1" in _run("evaluate", "--as-of", "2025-12-20")
    listing = _run("warnings", "--place", "360100")
    assert "360102" in listing and "waterlogging_many red 2025-12 value=30" in listing
    assert EarlyWarning.objects.get().place.code == "360102"


def test_import_refuses_the_whole_file_naming_lines(province, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "place,indicator,period,value\n"
        "360102,waterlogging_points,2025-01,2\n"
        "360102,waterlogging_points,2025-02,lots\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match=r"bad.csv:3: value:"):
        _run("import", str(path))
    assert Observation.objects.count() == 0
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        _run("evaluate", "--as-of", "yesterday")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    with pytest.raises(CommandError, match=r"^broken.xlsx: "):
        _run("import", str(broken))


def test_token_is_shown_once(province):
    out = _run("token", "--feed", "city_operation", "--place", "360100", "--name", "ops")
    key = out.strip().splitlines()[-1]
    assert key.startswith("cct_")
    assert "revoked" in _run("revoke", key[:8])
