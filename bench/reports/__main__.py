"""Report benchmarks: ``python -m bench.reports [--quick] [--workers N] [--var DIR]
[--before SRC --before-var DIR]``.

1. one city report (南昌市) in Word and PDF: build from the release, draw the charts,
   write both files; the first call (fonts, WeasyPrint and matplotlib loading) and the
   best of three after, wall and process CPU; targets ≤ 3 s first, ≤ 2 s warm.
2. every place of the 2024 release (111 reports and the provincial summary; 112 places)
   in Word and PDF with ``--workers`` processes: wall, CPU of this process and its
   workers, CPU per place; target ≤ 120 s on 2 cores. ``--quick`` renders 12 places.

``--var DIR``: a loaded demo with its 2024 release published (e.g. a copy of the demo a
``citycheck demo`` wrote); without it the demo is built in ``BENCH_VAR_DIR`` on first use.
``--before SRC`` runs the same first with the code under SRC (the ``src`` folder of
another checkout, e.g. a ``git worktree`` of the commit before a change) on the demo in
``--before-var`` (a copy in that code's schema), then this code: before and after side by
side in one run, with the load average at each. Prints one JSON object.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"one_city_first_s": 3, "one_city_warm_s": 2, "all_places_wall_s": 120}


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure(arguments) -> dict:
    """Both benchmarks with the code on ``sys.path`` and the demo in ``arguments.var``."""
    if arguments.var:
        var_dir = Path(arguments.var)
    else:
        from bench.reports._demo import ensure_demo

        var_dir = ensure_demo()
    os.environ["CITYCHECK_VAR_DIR"] = str(var_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citycheck.settings.dev")
    import django

    django.setup()
    import citycheck
    from citycheck.assessment.models import Release, ReleaseStatus
    from citycheck.places.models import Place
    from citycheck.reports import parts, services

    release = Release.objects.filter(status=ReleaseStatus.PUBLISHED, round__year=2024).first()
    city = Place.objects.get(code="360100")
    out = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    result = {"code": str(Path(citycheck.__file__).parent), "load_average_start": load_average()}
    walls, cpus = [], []
    for attempt in range(4):
        started, cpu_before = time.perf_counter(), time.process_time()
        services.render_report(release, city, ["docx", "pdf"], out / f"one{attempt}")
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu_before)
    result.update(
        one_city_first_s=round(walls[0], 2),
        one_city_first_cpu_s=round(cpus[0], 2),
        one_city_warm_s=round(min(walls[1:]), 2),
        one_city_warm_cpu_s=round(min(cpus[1:]), 2),
    )
    places = None  # every place and the summary
    if arguments.quick:  # a dozen places through the same pool as the full run
        summary = parts.summary_subject(release)
        places = [None, *services.report_places(release).exclude(pk=summary.pk)[:11]]
    started, cpu_before = time.perf_counter(), cpu_seconds()
    paths = services.render_all(
        release, ["docx", "pdf"], out / "all", places=places, workers=arguments.workers
    )
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
    count = len(paths) // 2
    result.update(
        all_places=count,
        all_workers=arguments.workers,
        all_wall_s=round(wall, 1),
        all_cpu_s=round(cpu, 1),
        all_cpu_per_place_s=round(cpu / count, 2),
        load_average_end=load_average(),
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--var", help="a loaded demo with a published 2024 release")
    parser.add_argument("--before", metavar="SRC", help="the src folder of the code before")
    parser.add_argument("--before-var", metavar="DIR", help="the demo for the code before")
    arguments = parser.parse_args()
    if not arguments.before:
        print(json.dumps({**measure(arguments), "targets": TARGETS}, ensure_ascii=False))
        return
    repo = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "bench.reports", f"--workers={arguments.workers}"]
    command += ["--quick"] if arguments.quick else []
    command += [f"--var={arguments.before_var}"] if arguments.before_var else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([arguments.before, str(repo)])}
    before = json.loads(
        subprocess.run(command, env=env, cwd=repo, check=True, stdout=subprocess.PIPE).stdout
    )
    before.pop("targets", None)
    after = measure(arguments)
    print(json.dumps({"before": before, "after": after, "targets": TARGETS}, ensure_ascii=False))


if __name__ == "__main__":
    main()
