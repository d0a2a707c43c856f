"""Rule evaluation over 10 million observations: ``python -m bench.monitoring.evaluate``.

3,000 places × 50 monthly indicators × 67 periods (10.05 M rows, a long frame as the
platform hands it to the engine); 100 rules: a threshold per indicator (with a separate
limit for one city class), a band, a change on last year, a Theil–Sen forecast (window 24,
horizon 6) and an ETS(A,A,N) forecast on ten indicators each, and an all-of rule. Target:
≤ 10 s. The peer check refits a sample of the series that warned by forecast with
scipy.stats.theilslopes and compares the crossing forecast.
"""

import argparse
import json
import resource
import time

import numpy as np
import pandas as pd
from scipy import stats

from citycheck.engine.monitoring import evaluate_rules


def observations(places: int, indicators: int, periods: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_series = places * indicators
    base = rng.uniform(50, 100, n_series)[:, None]
    drift = rng.normal(0, 0.2, n_series)[:, None]
    values = base + drift * np.arange(periods) + rng.normal(0, 2, (n_series, periods))
    place = np.repeat(np.arange(places), indicators * periods)
    indicator = np.tile(np.repeat(np.arange(indicators), periods), places)
    return pd.DataFrame(
        {
            "place": pd.Categorical.from_codes(place, [f"P{i:05d}" for i in range(places)]),
            "indicator": pd.Categorical.from_codes(
                indicator, [f"ind{j:02d}" for j in range(indicators)]
            ),
            "period": np.tile(np.arange(24_000, 24_000 + periods), n_series),
            "value": values.ravel(),
        }
    )


def rules(indicators: int) -> pd.DataFrame:
    rows = []
    for j in range(indicators):
        code = f"ind{j:02d}"
        rows.append(
            {"code": f"{code}_high", "kind": "threshold", "indicator": code, "threshold": 110.0}
        )
        rows.append(
            {
                "code": f"{code}_high",
                "kind": "threshold",
                "indicator": code,
                "threshold": 115.0,
                "city_class": "large_1",
            }
        )
        kind = ("band", "yoy", "forecast", "forecast_holt", "threshold")[j % 5]
        if kind == "band":
            rows.append(
                {
                    "code": f"{code}_band",
                    "kind": "band",
                    "indicator": code,
                    "low": 45.0,
                    "high": 105.0,
                }
            )
        elif kind == "yoy":
            rows.append(
                {"code": f"{code}_yoy", "kind": "yoy", "indicator": code, "threshold": 0.15}
            )
        elif kind == "forecast":
            rows.append(
                {
                    "code": f"{code}_trend",
                    "kind": "forecast",
                    "indicator": code,
                    "threshold": 100.0,
                    "window": 24,
                    "horizon": 6,
                }
            )
        elif kind == "forecast_holt":
            rows.append(
                {
                    "code": f"{code}_holt",
                    "kind": "forecast",
                    "indicator": code,
                    "threshold": 110.0,
                    "window": 24,
                    "horizon": 6,
                    "method": "holt",
                }
            )
    frame = pd.DataFrame(rows)
    combined = pd.DataFrame(
        [{"code": "both", "kind": "all_of", "components": ("ind00_high", "ind01_yoy")}]
    )
    frame = pd.concat([frame, combined], ignore_index=True)
    frame["components"] = frame["components"].apply(lambda c: c if isinstance(c, tuple) else ())
    frame["city_class"] = frame["city_class"].fillna("")
    return frame


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    arguments = parser.parse_args()
    places, indicators, periods = (300, 50, 67) if arguments.quick else (3000, 50, 67)
    frame = observations(places, indicators, periods)
    rule_frame = rules(indicators)
    classes = {f"P{i:05d}": "large_1" for i in range(0, places, 7)}
    started = time.perf_counter()
    cpu = time.process_time()
    found = evaluate_rules(frame, rule_frame, city_classes=classes)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu

    # Peer: scipy.stats.theilslopes on a sample of the Theil–Sen forecast warnings.
    trend = found.loc[found["rule"].str.endswith("_trend")].head(200)
    wide = frame.set_index(["place", "indicator", "period"])["value"]
    worst = 0.0
    for row in trend.itertuples():
        series = wide.loc[(row.place, row.indicator)].to_numpy()[-24:]
        fit = stats.theilslopes(series, np.arange(24), alpha=0.9)
        expected = fit.intercept + fit.slope * (23 + row.periods_ahead)
        worst = max(worst, abs(expected - row.forecast))
    print(
        json.dumps(
            {
                "observations": len(frame),
                "series": places * indicators,
                "rules": int(rule_frame["code"].nunique()),
                "rule_rows": len(rule_frame),
                "warnings": len(found),
                "warnings_by_kind": found["rule"]
                .str.rsplit("_", n=1)
                .str[-1]
                .value_counts()
                .to_dict(),
                "evaluate_seconds": round(seconds, 2),
                "evaluate_cpu_seconds": round(cpu_seconds, 2),
                "target_seconds": 10,
                "theil_sen_checked_against_scipy": len(trend),
                "theil_sen_max_abs_difference": worst,
                "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
