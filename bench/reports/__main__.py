"""Report benchmarks: ``python -m bench.reports [--quick] [--workers N]``.

1. one city report (南昌市) in Word and PDF: build from the release, draw the charts,
   write both files; first call (fonts and WeasyPrint loading) and best of three after;
   target ≤ 10 s.
2. every place of the 2024 release (111 reports and the provincial summary; 112 places)
   in Word and PDF with ``--workers`` processes; target ≤ 5 minutes on 2 cores.
   ``--quick`` renders 12 places only.

Uses the demo in ``BENCH_VAR_DIR`` (built on first use). Prints one JSON object.
"""

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from bench.reports._demo import ensure_demo


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    arguments = parser.parse_args()
    var_dir = ensure_demo()
    os.environ["CITYCHECK_VAR_DIR"] = str(var_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citycheck.settings.dev")
    import django

    django.setup()
    from citycheck.assessment.models import Release, ReleaseStatus
    from citycheck.places.models import Place
    from citycheck.reports import content, services

    release = Release.objects.filter(status=ReleaseStatus.PUBLISHED, round__year=2024).first()
    city = Place.objects.get(code="360100")
    out = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    one = []
    for attempt in range(4):
        started = time.perf_counter()
        services.render_report(release, city, ["docx", "pdf"], out / f"one{attempt}")
        one.append(time.perf_counter() - started)
    result = {
        "one_city_docx_pdf_first_s": round(one[0], 2),
        "one_city_docx_pdf_best_s": round(min(one[1:]), 2),
        "one_city_target_s": 10,
    }
    places = None  # every place and the summary
    if arguments.quick:  # a dozen places through the same pool as the full run
        summary = content.summary_subject(release)
        places = [None, *services.report_places(release).exclude(pk=summary.pk)[:11]]
    started, cpu_before = time.perf_counter(), cpu_seconds()
    paths = services.render_all(
        release, ["docx", "pdf"], out / "all", places=places, workers=arguments.workers
    )
    wall = time.perf_counter() - started
    result.update(
        all_places=len(paths) // 2,
        all_workers=arguments.workers,
        all_wall_s=round(wall, 1),
        all_cpu_s=round(cpu_seconds() - cpu_before, 1),
        all_target_s=300,
        load_average=[round(x, 2) for x in os.getloadavg()],
    )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
