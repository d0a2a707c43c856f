"""A release recomputed from its bundle alone (``citycheck release export ID --bundle DIR``)
by a short numpy implementation written here, not the engine."""

import csv
import json

import numpy as np
import pytest
import yaml
from django.core.management import call_command

from citycheck.assessment import services
from citycheck.core.choices import Role

from .conftest import METHOD


def read(folder, name):
    with open(folder / name, encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def recompute(folder, level="county"):
    """Index scores and ranks of ``level`` from the bundle, for the test method's steps:
    range → distance outside the band, screen on reported values, mean imputation,
    min-max, expert × entropy within dimensions, equal dimension weights, arithmetic
    dimensions, geometric index."""
    method = yaml.safe_load((folder / "method.yaml").read_text(encoding="utf-8"))
    steps = method["steps"]
    assert steps["treat"]["method"] == "none" and steps["impute"]["method"] == "mean"
    places = [row for row in read(folder, "places.csv") if row["level"] == level]
    codes = [row["place"] for row in places]
    indicators = read(folder, "indicators.csv")
    columns = [row["indicator"] for row in indicators]
    x = np.full((len(codes), len(columns)), np.nan)
    for row in read(folder, "values.csv"):
        if row["place"] in codes:
            x[codes.index(row["place"]), columns.index(row["indicator"])] = float(row["value"])
    direction = np.array([float(row["direction"]) for row in indicators])
    classes = {row["place"]: row["city_class"] for row in places}
    bands = {
        (row["indicator"], row["city_class"]): (float(row["value"]), float(row["value_high"]))
        for row in read(folder, "standards.csv")
        if row["comparison"] == "between"
    }
    for j in np.flatnonzero(direction == 0):
        for i, code in enumerate(codes):
            low, high = bands.get((columns[j], classes[code])) or bands[(columns[j], "")]
            x[i, j] = max(low - x[i, j], x[i, j] - high, 0.0) if x[i, j] == x[i, j] else np.nan
        direction[j] = -1
    kept = np.mean(~np.isnan(x), axis=1) >= steps["screen"]["min_availability"]
    x, codes = x[kept], [c for c, k in zip(codes, kept, strict=True) if k]
    x = np.where(np.isnan(x), np.nanmean(x, axis=0), x)
    oriented = x * direction
    unit = (oriented - oriented.min(axis=0)) / (oriented.max(axis=0) - oriented.min(axis=0))
    low, high = steps["normalise"]["low"], steps["normalise"]["high"]
    scaled = unit * (high - low) + low
    dimension = np.array([row["dimension"] for row in indicators])
    expert = steps["weights"]["indicators"]["expert"]
    dimension_scores = []
    for name in dict.fromkeys(dimension):
        block = np.flatnonzero(dimension == name)
        if len(block) == 1:
            weights = np.ones(1)
        else:
            shares = unit[:, block] / unit[:, block].sum(axis=0)
            logs = np.log(shares, out=np.zeros_like(shares), where=shares > 0)
            entropy_weights = 1 + (shares * logs).sum(axis=0) / np.log(len(codes))
            weights = entropy_weights * [expert.get(columns[j], 1.0) for j in block]
        weights = weights / weights.sum()
        dimension_scores.append(scaled[:, block] @ weights)
    index = np.exp(np.log(np.column_stack(dimension_scores)).mean(axis=1))
    ranks = (index[None, :] > index[:, None]).sum(axis=1) + 1
    return dict(zip(codes, index, strict=True)), dict(zip(codes, ranks, strict=True))


def test_a_release_is_recomputed_from_its_bundle_alone(province, method, tmp_path):
    province.adopt(province.open_round, "other_county", "green_space", None)  # imputed
    release = services.run_assessment(
        province.open_round, method, acting_user=province.users[Role.PROVINCE_ADMIN]
    )
    call_command("release", "export", str(release.pk), "--bundle", str(tmp_path))
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["method"]["code"] == "test-index"
    assert manifest["system"] == {"code": "test-system", "version": 2024}
    assert manifest["uncertainty"]["random_state"] == 7
    assert "draw 0 = the published model" in manifest["uncertainty"]["draw_order"]
    assert manifest["levels"]["county"]["imputations"] == [
        {
            "place": "360402",
            "indicator": "green_space",
            "value": pytest.approx((16 + 12.5 + 7) / 3),
            "method": "mean",
        }
    ]
    assert (tmp_path / "method.yaml").read_text(encoding="utf-8") == METHOD
    scores, ranks = recompute(tmp_path)
    published = {
        row["place_code"]: row for row in read(tmp_path, "results.csv") if row["level"] == "index"
    }
    assert set(published) == set(scores)
    for code, score in scores.items():
        assert float(published[code]["score"]) == pytest.approx(score, abs=1e-9)
        assert int(published[code]["rank"]) == ranks[code]
