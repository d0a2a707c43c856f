"""``citycheck report``: the annual reports of a round's published release.

citycheck report --round 2024 --place 360100 --format docx,pdf,html --out DIR
citycheck report --round 2024 --all --format docx,pdf --out DIR [--workers N]
citycheck report --round 2024 --summary --out DIR
citycheck report --round 2024 --bulletin 2 --out DIR
"""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from citycheck.assessment.models import Release, ReleaseStatus
from citycheck.places.models import Place
from citycheck.reports import parts, services


class Command(BaseCommand):
    help = "生成年度城市体检报告（Word、PDF、网页），只用已发布的评价结果。"

    def add_arguments(self, parser):
        parser.add_argument("--round", type=int, required=True, metavar="YEAR")
        parser.add_argument(
            "--release", type=int, help="A published release id (default: the round's)."
        )
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--place", metavar="CODE", help="Division code of the place.")
        which.add_argument("--all", action="store_true", help="Every place and the summary.")
        which.add_argument("--summary", action="store_true", help="The provincial summary.")
        which.add_argument("--bulletin", type=int, metavar="QUARTER", help="Quarterly bulletin.")
        parser.add_argument("--format", default="docx,pdf,html", help="docx,pdf,html")
        parser.add_argument("--out", required=True, type=Path, metavar="DIR")
        parser.add_argument("--workers", type=int, help="Processes for --all (CPU count).")

    def handle(self, *args, **options):
        release = self._release(options["round"], options["release"])
        formats = options["format"].split(",")
        out = options["out"]
        started = time.perf_counter()
        try:
            if options["all"]:
                paths = self._all(release, formats, out, options["workers"])
            elif options["bulletin"]:
                paths = services.render_bulletin(release, options["bulletin"], formats, out)
            else:
                place = None
                if options["place"]:
                    place = Place.objects.filter(code=options["place"]).first()
                    if place is None:
                        raise CommandError(f"--place: no place with code {options['place']!r}")
                paths = services.render_report(release, place, formats, out)
        except (services.ReportError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        for path in paths if len(paths) <= 12 else []:
            self.stdout.write(str(path))
        self.stdout.write(
            f"{len(paths)} files from release #{release.pk} in "
            f"{time.perf_counter() - started:.1f} s → {out}"
        )

    def _release(self, year, pk) -> Release:
        releases = Release.objects.published().select_related("round", "scope")
        if pk is not None:
            release = releases.filter(pk=pk, round__year=year).first()
            if release is None:
                raise CommandError(f"--release: #{pk} is not a published release of {year}")
            return release
        release = releases.filter(round__year=year, status=ReleaseStatus.PUBLISHED).first()
        if release is None:
            raise CommandError(f"--round: no published release of the {year} round")
        return release

    def _all(self, release, formats, out, workers):
        total = (
            services.report_places(release).exclude(pk=parts.summary_subject(release).pk).count()
            + 1
        )
        with tqdm(total=total, unit="report", disable=None) as bar:

            def progress(done, total, name):
                bar.set_postfix_str(name)
                bar.update(1)

            return services.render_all(release, formats, out, workers=workers, progress=progress)
