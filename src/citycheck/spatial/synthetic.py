"""A synthetic but plausible walking network, facilities and residential blocks for
central 南昌市 (Nanchang), east of the Gan River, for the demo and the tests.

Everything here is generated (labelled synthetic): a jittered street grid of about
120 m blocks over 东湖区 (north) and 西湖区 (south) with some streets missing, an island
of footpaths cut off from the rest (its residents reach nothing), residential blocks
with synthetic populations, and facilities scattered with deliberate gaps (no
kindergarten or clinic in the south-east, few parks in the south). No AMap or other
restricted geometry is used: only a bounding box of public coordinates in WGS84.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .geodata import WGS84, FacilityTypes, Geodata

# Central Nanchang east of the Gan River (WGS84): 八一广场 is near 115.892, 28.677.
WEST, SOUTH = 115.872, 28.655
STEP_DEG = 0.0012  # about 117 m of longitude and 133 m of latitude here
NORTH_COUNTY, SOUTH_COUNTY = "360102", "360103"  # 东湖区, 西湖区
SYNTHETIC_NOTE = "合成数据（演示用），非真实路网与设施"


def nanchang(*, side: int = 36, seed: int = 2025, types: FacilityTypes | None = None) -> Geodata:
    """The synthetic data set: ``side`` x ``side`` street nodes (36: ~4.2 km x 4.8 km)."""
    rng = np.random.default_rng(seed)
    col, row = np.meshgrid(np.arange(side), np.arange(side))
    col, row = col.ravel(), row.ravel()
    x = WEST + col * STEP_DEG + rng.normal(0, STEP_DEG * 0.06, col.size)
    y = SOUTH + row * STEP_DEG + rng.normal(0, STEP_DEG * 0.06, col.size)
    ids = np.arange(col.size)
    grid = ids.reshape(side, side)
    u = np.concatenate([grid[:, :-1].ravel(), grid[:-1, :].ravel()])
    v = np.concatenate([grid[:, 1:].ravel(), grid[1:, :].ravel()])
    keep = rng.random(u.size) > 0.08
    # An island of footpaths in the north-east (a walled compound with one closed gate):
    # the streets crossing its border are missing.
    island = (col >= side - 4) & (row >= side - 4)
    crossing = island[u] != island[v]
    keep &= ~crossing
    u, v = u[keep], v[keep]
    nodes = pd.DataFrame({"id": ids, "x": x, "y": y})
    lon_m = 111_320 * np.cos(np.radians(SOUTH + side * STEP_DEG / 2))
    straight = np.hypot((x[u] - x[v]) * lon_m, (y[u] - y[v]) * 110_574)
    edges = pd.DataFrame(
        {"u": u, "v": v, "length": np.round(straight * rng.uniform(1.0, 1.15, u.size), 2)}
    )

    # Residential blocks: one home point per block centre, most blocks inhabited.
    bcol, brow = np.meshgrid(np.arange(side - 1), np.arange(side - 1))
    bcol, brow = bcol.ravel(), brow.ravel()
    inhabited = rng.random(bcol.size) < 0.7
    bcol, brow = bcol[inhabited], brow[inhabited]
    hx = WEST + (bcol + 0.5) * STEP_DEG
    hy = SOUTH + (brow + 0.5) * STEP_DEG
    north = brow >= (side - 1) // 2
    county = np.where(north, NORTH_COUNTY, SOUTH_COUNTY)
    street_no = (bcol >= (side - 1) // 2).astype(int) + 1
    street = np.where(north, "东湖", "西湖") + np.char.add("街道", street_no.astype(str))
    community_no = (bcol % ((side - 1) // 2) // 6) * 3 + (brow % ((side - 1) // 2) // 6) + 1
    community = np.char.add(np.char.add(street.astype(str), "第"), community_no.astype(str))
    community = np.char.add(community, "社区")
    homes = pd.DataFrame(
        {
            "x": hx,
            "y": hy,
            "population": rng.integers(150, 1800, bcol.size).astype(float),
            "county": county,
            "street": street,
            "community": community,
        }
    )

    # Facilities: counts per type, placed near random nodes, with gaps on purpose.
    counts = {
        "kindergarten": 26,
        "school": 14,
        "clinic": 12,
        "pharmacy": 30,
        "elderly_care": 9,
        "market": 22,
        "park": 16,
        "playground": 18,
        "sports": 10,
        "bus_stop": 70,
    }
    half = side // 2
    rows = []
    for kind, count in counts.items():
        candidates = np.flatnonzero(~island)
        if kind in ("kindergarten", "clinic"):
            candidates = candidates[~((col[candidates] >= half) & (row[candidates] < half))]
        if kind == "park":
            candidates = candidates[row[candidates] >= side // 3]
        count = min(len(candidates), max(1, round(count * side * side / 36**2)))
        chosen = rng.choice(candidates, size=count, replace=False)
        area = (
            rng.choice([1500.0, 3000.0, 8000.0, 20000.0, 150000.0], size=count)
            if kind == "park"
            else np.nan
        )
        for k, node in enumerate(chosen):
            rows.append(
                {
                    "x": x[node] + rng.normal(0, STEP_DEG * 0.1),
                    "y": y[node] + rng.normal(0, STEP_DEG * 0.1),
                    "type": kind,
                    "name": f"合成{kind}-{k + 1}",
                    "area_m2": area[k] if kind == "park" else np.nan,
                }
            )
    facilities = pd.DataFrame(rows)
    if types is not None:
        facilities["radius"] = np.where(
            facilities["type"] == "park",
            types.radius_for_area(facilities["area_m2"].fillna(0)),
            np.nan,
        )
    return Geodata(
        nodes=nodes,
        edges=edges,
        facilities=facilities,
        homes=homes,
        datum=WGS84,
        files=[
            {
                "name": f"synthetic-nanchang-seed{seed}-side{side}",
                "sha256": "",
                "bytes": 0,
                "note": SYNTHETIC_NOTE,
            }
        ],
    )
