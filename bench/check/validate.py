"""The per-save value check: ``python -m bench.check.validate --var DIR [--before SRC]
[--places N] [--repeat R] [--profile FILE]``.

Runs :func:`citycheck.collection.validation.validate_round_values` as the entry form's save
does (one place, every indicator it entered, stage ``save``), as submit does (stage
``submit``) and as an upload preview does (stage ``upload``: the stored values with unit
slips, lost signs and large changes laid over them, for one place and for ten at once)
for ``--places`` places of a loaded demo's open 2025 round, ``--repeat`` times each;
reports the median and 90th percentile per call (wall) and the process CPU per call.
Target: ≤ 15 ms per save-path call on an idle core.

``--var DIR``: the var directory of a loaded demo (``CITYCHECK_VAR_DIR`` of a
``citycheck demo`` run). ``--before SRC`` first runs the same calls with the code under
SRC (the ``src`` folder of a ``git archive`` of the commit before a change) on the same
database — nothing is written — then this code, and says whether both returned the same
issues for every call: before and after side by side in one run, with the load average
at each. Prints one JSON object.
"""

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SAVE_MS = 15
# Factors applied in turn to an upload's values: unit slips (×100, ÷100, ×10,000), a sign
# lost, a large change, and most values as stored.
SLIPS = [100, 1, 0.01, 1, -1, 1, 1.8, 1, 10_000, 1, 1]


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _calls(places: int):
    """(round, place ids, indicator ids) of the save-path calls: the open round's first
    ``places`` places with self-check values, cities and counties alternating."""
    from citycheck.collection.models import Round, Source, Value

    round_ = Round.objects.filter(is_synthetic=True).order_by("-year").first()
    entered = (
        Value.objects.filter(round=round_, source=Source.SELF_CHECK)
        .values_list("place_id", "place__level")
        .distinct()
        .order_by("place__code")
    )
    by_level: dict[str, list[int]] = {}
    for place_id, level in entered:
        by_level.setdefault(level, []).append(place_id)
    chosen = []
    while len(chosen) < places and any(by_level.values()):
        for ids in by_level.values():
            if ids and len(chosen) < places:
                chosen.append(ids.pop(0))
    indicator_ids = [i.pk for i in round_.system.all_indicators()]
    return round_, chosen, indicator_ids


def measure(places: int, repeat: int, profile: str | None) -> dict:
    """Time the calls in this process (the code on ``sys.path``); issues are pickled."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citycheck.settings.dev")
    import django

    django.setup()
    import pandas as pd

    from citycheck.collection.models import Source, Value
    from citycheck.collection.validation import validate_round_values

    round_, place_ids, indicator_ids = _calls(places)

    def call(place_id, stage):
        return validate_round_values(
            round_,
            source=Source.SELF_CHECK,
            place_ids=[place_id],
            stage=stage,
            indicator_ids=indicator_ids,
        )

    def upload(ids):
        """An upload preview of these places' values with typing slips mixed in."""
        rows = Value.objects.filter(round=round_, source=Source.SELF_CHECK, place_id__in=ids)
        overlay = pd.DataFrame.from_records(
            rows.values_list("place__code", "indicator__code", "value").order_by("pk"),
            columns=["place", "indicator", "value"],
        )
        overlay["value"] = [
            None if value is None else value * SLIPS[number % len(SLIPS)]
            for number, value in enumerate(overlay["value"])
        ]
        return validate_round_values(
            round_, source=Source.SELF_CHECK, place_ids=ids, stage="upload", overlay=overlay
        )

    call(place_ids[0], "save")  # imports, rules file, peer frame: once per process
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    timings: dict[str, list[float]] = {"save": [], "submit": [], "upload": []}
    cpu: dict[str, float] = dict.fromkeys(timings, 0.0)
    issues = {}
    for _ in range(repeat):
        for stage in timings:
            batches = [[p] for p in place_ids]
            if stage == "upload":  # one place at a time, and ten at once
                batches += [place_ids[n : n + 10] for n in range(0, len(place_ids), 10)]
            for ids in batches:
                wall, process = time.perf_counter(), time.process_time()
                found = upload(ids) if stage == "upload" else call(ids[0], stage)
                timings[stage].append(time.perf_counter() - wall)
                cpu[stage] += time.process_time() - process
                issues[(stage, tuple(ids))] = found
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    result = {"places": len(place_ids), "calls": {k: len(v) for k, v in timings.items()}}
    for stage, times in timings.items():
        result[f"{stage}_median_ms"] = round(statistics.median(times) * 1000, 2)
        result[f"{stage}_p90_ms"] = round(statistics.quantiles(times, n=10)[-1] * 1000, 2)
        result[f"{stage}_cpu_ms_per_call"] = round(cpu[stage] / len(times) * 1000, 2)
    result["issues"] = sum(len(frame) for frame in issues.values())
    return result, issues


def _run(src: str | None, var: str, places: int, repeat: int, out: Path) -> dict:
    env = {**os.environ, "CITYCHECK_VAR_DIR": var}
    env.pop("DATABASE_URL", None)
    if src:
        env["PYTHONPATH"] = os.pathsep.join([src, str(Path(__file__).parents[2])])
    command = [sys.executable, "-m", "bench.check.validate", "--var", var, "--worker", str(out)]
    command += ["--places", str(places), "--repeat", str(repeat)]
    finished = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return json.loads(finished.stdout.strip().splitlines()[-1])


def _same_issues(before: dict, after: dict) -> tuple[list[str], int]:
    """The calls whose issue frames differ (columns, rows, values, messages), and the
    blank warnings of the code before 18a2f79 (one with every error-only check; fixed)
    left out of the comparison."""
    import pandas as pd

    differ, blank = [], 0
    for key, frame in before.items():
        blank_rows = frame["place"].isna()
        blank += int(blank_rows.sum())
        try:
            pd.testing.assert_frame_equal(frame[~blank_rows].reset_index(drop=True), after[key])
        except AssertionError:
            differ.append(f"{key[0]} places {key[1]}")
    return differ, blank


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.check.validate", description=__doc__)
    parser.add_argument("--var", required=True, help="var directory of a loaded demo")
    parser.add_argument("--before", help="src folder of the code to compare with")
    parser.add_argument("--places", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", help="write a cProfile of this code's calls here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    os.environ["CITYCHECK_VAR_DIR"] = arguments.var
    if arguments.worker or arguments.profile:
        result, issues = measure(arguments.places, arguments.repeat, arguments.profile)
        if arguments.worker:
            Path(arguments.worker).write_bytes(pickle.dumps(issues))
        print(json.dumps(result))
        return
    result = {"target_save_ms": TARGET_SAVE_MS}
    with tempfile.TemporaryDirectory() as scratch:
        outputs = {}
        for name, src in (("before", arguments.before), ("after", None)):
            if name == "before" and not src:
                continue
            outputs[name] = Path(scratch) / f"{name}.pickle"
            load = load_average()
            result[name] = _run(
                src, arguments.var, arguments.places, arguments.repeat, outputs[name]
            )
            result[name]["load_average"] = load
        if "before" in outputs:
            differ, blank = _same_issues(*(pickle.loads(outputs[n].read_bytes()) for n in outputs))
            result["same_issues"] = not differ
            result["blank_warnings_before"] = blank
            result["differing_calls"] = differ[:10]
            result["save_speedup"] = round(
                result["before"]["save_median_ms"] / result["after"]["save_median_ms"], 1
            )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
