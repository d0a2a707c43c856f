"""Run a benchmark area: ``python -m bench engine``.

Each benchmark runs in its own process so its peak memory (max RSS) is its own.
"""

import argparse
import json
import subprocess
import sys

AREAS = {
    "engine": ["bench.engine.pipeline", "bench.engine.peers"],
    "check": ["bench.check"],
    "reports": ["bench.reports"],
    "http": ["bench.http"],
    "survey": ["bench.survey", "bench.survey.form"],
    "load": ["bench.load"],
    "spatial": ["bench.spatial.grid", "bench.spatial.helsinki"],
    "exchange": ["bench.exchange"],
    "supervision": ["bench.supervision"],
    "monitoring": [
        "bench.monitoring.evaluate",
        "bench.monitoring.ingest",
        "bench.monitoring.api",
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("area", choices=sorted(AREAS))
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    # Other options go to the area's benchmark (e.g. ``python -m bench load --before SRC``).
    arguments, others = parser.parse_known_args()
    for module in AREAS[arguments.area]:
        command = [sys.executable, "-m", module, *(["--quick"] if arguments.quick else [])]
        command += others
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        print(json.dumps(json.loads(output), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
