"""The demo's life-circle stage on the small province: run as 南昌市's administrator,
accepted into the open round, within its time budget, and not repeated."""

import time

from citycheck.collection.models import Source, Value
from citycheck.core.choices import Role
from citycheck.spatial.demo import DEMO_STAGES, load_life_circle
from citycheck.spatial.models import Analysis
from citycheck.testing import build_user


def test_demo_stage_analyses_and_accepts_for_the_open_round(province):
    build_user("nanchang_admin", Role.CITY_ADMIN, province.places["city"])
    assert [name for name, _ in DEMO_STAGES] == ["life_circle"]
    start = time.perf_counter()
    counts = load_life_circle(progress=lambda message: None)
    elapsed = time.perf_counter() - start
    assert counts["datasets"] == 1 and counts["homes"] > 500 and counts["spatial_values"] == 6
    assert elapsed < 8, elapsed
    analysis = Analysis.objects.get()
    assert analysis.accepted is not None and analysis.created_by.username == "nanchang_admin"
    assert analysis.dataset.round == province.open_round and analysis.dataset.format == "synthetic"
    assert Value.objects.filter(source=Source.SPATIAL, round=province.open_round).count() == 6
    assert load_life_circle(progress=lambda message: None) == {"datasets": 0}
