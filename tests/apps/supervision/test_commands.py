"""The commands: dispatch remind/close, bulletin --year/--quarter (and --issue),
appraisal compute/issue."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from citycheck.supervision import dispatch
from citycheck.supervision.models import Appraisal, DispatchMonth

pytestmark = pytest.mark.django_db


def test_dispatch_commands(province, admin, capsys):
    call_command("dispatch", "open", "--month", "2025-06", "--deadline", "2025-07-10")
    call_command("dispatch", "remind", "--month", "2025-06")
    assert "reminded 2" in capsys.readouterr().out
    call_command("dispatch", "close", "--month", "2025-06")
    assert "overdue 2" in capsys.readouterr().out
    assert DispatchMonth.objects.get().status == "closed"
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("dispatch", "close", "--month", "2025-13")
    with pytest.raises(CommandError, match="no dispatch"):
        call_command("dispatch", "remind", "--month", "2025-07")
    with pytest.raises(CommandError, match="已截止"):
        call_command("dispatch", "remind", "--month", "2025-06")
    assert dispatch.overdue_places(DispatchMonth.objects.get())


def test_bulletin_and_appraisal_commands(
    province, projects, published_release, media_root, tmp_path, capsys
):
    call_command(
        "bulletin", "--year", "2025", "--quarter", "2", "--out", tmp_path, "--format", "html"
    )
    assert (tmp_path / "江西省2025年第2季度城市更新工作通报.html").exists()
    call_command(
        "bulletin", "--year", "2025", "--quarter", "2", "--out", tmp_path / "issued", "--issue"
    )
    issued = sorted(p.name for p in (tmp_path / "issued").iterdir())
    assert len(issued) == 2 and issued[0].startswith("赣城检督〔")
    with pytest.raises(CommandError, match="尚无已发布"):
        call_command("bulletin", "--year", "2024", "--quarter", "1", "--out", tmp_path)

    call_command("appraisal", "compute", "--year", "2024")
    assert "draft" in capsys.readouterr().out
    call_command("appraisal", "issue", "--year", "2024", "--out", tmp_path / "appraisal")
    assert Appraisal.objects.get().number.endswith("2号")  # after the bulletin's 1号
    assert len(list((tmp_path / "appraisal").iterdir())) == 2
    with pytest.raises(CommandError, match="no draft"):
        call_command("appraisal", "issue", "--year", "2024")
