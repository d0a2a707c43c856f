"""`citycheck demo` runs the apps' stages in the cycle's order, each in one transaction, and
resumes after the last finished stage when a set-up was killed (issue 16 item 11)."""

from io import StringIO

import pytest
from django.core.management import call_command

from citycheck.core import demo as demo_module
from citycheck.core.models import DemoStage
from citycheck.places.models import Place

pytestmark = pytest.mark.django_db


def test_the_stages_follow_the_cycle():
    names = [name for name, _ in demo_module.demo_stages()]
    assert names.index("reference") < names.index("rounds") < names.index("cycle")


def _place(code):
    def load(progress):
        Place.objects.create(code=code, name_zh=f"地方{code}", level="province")
        return {code: 1}

    return load


def test_a_killed_stage_leaves_nothing_and_the_next_run_resumes(monkeypatch):
    def killed(progress):
        Place.objects.create(code="360002", name_zh="半途", level="province")
        raise KeyboardInterrupt  # what a Ctrl-C or a kill in the middle of a stage looks like

    monkeypatch.setattr(
        demo_module, "demo_stages", lambda: [("first", _place("360001")), ("second", killed)]
    )
    with pytest.raises(KeyboardInterrupt):
        call_command("demo", "--if-empty", stdout=StringIO())
    assert list(DemoStage.objects.values_list("name", flat=True)) == ["first"]
    assert not Place.objects.filter(code="360002").exists()  # the killed stage left nothing

    monkeypatch.setattr(
        demo_module,
        "demo_stages",
        lambda: [("first", _place("360001")), ("second", _place("360002"))],
    )
    out = StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "[first]" not in out.getvalue()  # finished stages are not run again
    assert "[second]" in out.getvalue()
    assert Place.objects.filter(code__in=["360001", "360002"]).count() == 2
    assert DemoStage.objects.count() == 2

    out = StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "already loaded" in out.getvalue()
