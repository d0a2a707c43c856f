"""The demo's life-circle stage: 南昌市's city administrator imports the synthetic central
Nanchang data set (:mod:`citycheck.spatial.synthetic`, labelled synthetic) for the open
round (else the latest round), analyses it and accepts the results as the round's
spatial values, through the same services as the pages."""

from __future__ import annotations

from citycheck.accounts.models import User
from citycheck.collection.models import Round, RoundStatus
from citycheck.core.context import acting
from citycheck.places.models import Place

from . import services, synthetic
from .geodata import load_facility_types
from .models import Dataset

DEMO_USER = "nanchang_admin"
DEMO_CITY = "360100"
DEMO_NAME = "中心城区步行网络（合成数据）"


def load_life_circle(progress=print) -> dict:
    """Import, analyse and accept the synthetic 南昌 life-circle data."""
    user = User.objects.get(username=DEMO_USER)
    city = Place.objects.get(code=DEMO_CITY)
    rounds = Round.objects.filter(is_synthetic=True, places=city)
    round_ = (
        rounds.filter(status=RoundStatus.OPEN).order_by("-year").first()
        or rounds.order_by("-year").first()
    )
    if round_ is None or Dataset.objects.filter(round=round_, place=city, name=DEMO_NAME).exists():
        return {"datasets": 0}
    progress(f"{round_.year}: 15-minute life circle of 南昌市 (synthetic) …")
    types = load_facility_types()
    with acting(user):
        dataset = services.save_dataset(
            round_,
            city,
            synthetic.nanchang(types=types),
            name=DEMO_NAME,
            format=Dataset.Format.SYNTHETIC,
            acting_user=user,
        )
        analysis = services.run_analysis(dataset, acting_user=user, types=types)
        changed = 0
        if round_.status == RoundStatus.OPEN and services.indicator_values(analysis, types):
            changed = services.accept_analysis(analysis, acting_user=user)
    return {"datasets": 1, "homes": dataset.counts["homes"], "spatial_values": changed}


DEMO_STAGES = [("life_circle", load_life_circle)]
