"""A small province with the resident questionnaire loaded and its 2024 survey open."""

import itertools
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from citycheck.core.choices import Role
from citycheck.indicators.models import Indicator, SourceKind
from citycheck.survey import services
from citycheck.survey.models import Channel

QUESTIONNAIRE = Path(settings.DATA_DIR) / "survey" / "resident-2021.yaml"


@pytest.fixture
def surveyed(small_province):
    province = small_province
    admin = province.users[Role.PROVINCE_ADMIN]
    dimension = province.system.dimensions.first()
    Indicator.objects.create(
        system=province.system,
        dimension=dimension,
        code="street_parking_order",
        name_zh="城市街道车辆停放有序性",
        unit="%",
        source_kind=SourceKind.SURVEY,
        order=9,
        decimals=1,
    )
    questionnaire = services.import_questionnaire(QUESTIONNAIRE, acting_user=admin)
    survey = services.open_survey(
        province.open_round, questionnaire, acting_user=admin, minimum_per_city=60
    )
    province.survey = survey
    province.admin = admin
    return province


def answers_row(county, sex, age, rating, **extra):
    """One complete set of answers (all required items) as an import row would carry it."""
    row = {
        "place": county,
        "sex": sex,
        "age_band": age,
        "residence_years": "over_10",
        "tenure": "owned",
        "tr_mode": "bus_metro",
        "in_cost_share": "under_30",
        "seconds": "300",
    }
    for item in services.Questionnaire.objects.get().items:
        if item["type"] == "likert":
            row[item["code"]] = str(rating(item))
    row.update(extra)
    return row


def synthetic_rows(counties, n_per_county, seed=0, low_dimension="tidiness"):
    """Varied answers: every sex x age cell present, the dimension ``low_dimension`` rated low."""
    rng = np.random.default_rng(seed)
    cells = list(itertools.product(services.SEXES, services.AGE_BANDS))
    rows = []
    for county in counties:
        for i in range(n_per_county):
            sex, age = cells[i % len(cells)]

            def rating(item, rng=rng):
                centre = 2 if item["dimension"] == low_dimension else 4
                return int(np.clip(rng.normal(centre, 0.9), 1, 5).round())

            rows.append(answers_row(county, sex, age, rating, reference=f"{county}-{i}"))
    return rows


def enter(province, rows, **kwargs):
    return services.record_responses(
        province.survey, rows, acting_user=province.admin, channel=Channel.IMPORT, **kwargs
    )
