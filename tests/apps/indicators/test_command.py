"""`citycheck systems validate|import|export`: summaries, errors and exit status."""

import pytest
from django.core.management import CommandError, call_command

from citycheck.indicators.models import Crosswalk, Indicator, IndicatorSystem

from .conftest import SYSTEMS_DIR

pytestmark = pytest.mark.django_db


def test_validate_prints_a_summary_and_writes_nothing(capsys):
    call_command("systems", "validate", str(SYSTEMS_DIR / "national-2021.yaml"))
    out = capsys.readouterr().out
    assert "校验通过" in out and "ecology: 17" in out and "定义有出处" in out
    assert not IndicatorSystem.objects.exists()


def test_a_bad_file_fails_with_file_line_and_field(write_variant, capsys):
    path = write_variant("    dimension: safety\n", "    dimension: culture\n")
    with pytest.raises(CommandError, match="1 处错误"):
        call_command("systems", "import", str(path))
    assert f"{path}:30: indicators[1].dimension: 未知维度：culture" in capsys.readouterr().err
    assert not Indicator.objects.exists()


def test_import_export_and_crosswalk(tmp_path, capsys):
    call_command("systems", "import", str(SYSTEMS_DIR / "national-2021.yaml"))
    call_command("systems", "import", str(SYSTEMS_DIR / "four-level-2023.yaml"))
    call_command("systems", "import", str(SYSTEMS_DIR / "crosswalk-2021-2023.yaml"))
    assert "已导入 31 对指标对照" in capsys.readouterr().out
    assert Crosswalk.objects.count() == 31
    output = tmp_path / "out.yaml"
    call_command("systems", "export", "national-2021", "--version", "2021", "-o", str(output))
    assert output.read_text(encoding="utf-8").startswith("code: national-2021\nversion: 2021\n")
    with pytest.raises(CommandError, match="没有指标体系"):
        call_command("systems", "export", "national-2021", "--version", "1999", "-o", str(output))
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("systems", "validate", str(tmp_path / "missing.yaml"))
