"""``citycheck bulletin --year 2025 --quarter 2 --out DIR``: the quarterly bulletin
(季度通报) of a year's projects, written by the reports machinery (as
``citycheck report --bulletin``); with ``--issue``, drafted and issued as the web does
(document number, kept as issued) and its files copied to DIR."""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from citycheck.core.context import acting
from citycheck.reports.services import ReportError, render_bulletin
from citycheck.supervision import bulletins

from ..lookups import command_user


class Command(BaseCommand):
    help = "季度通报：按年度、季度生成通报文件；--issue 印发（编文号、留存）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--year", type=int, required=True, help="The year the projects are built in."
        )
        parser.add_argument("--quarter", type=int, required=True, choices=[1, 2, 3, 4])
        parser.add_argument("--out", required=True, metavar="DIR")
        parser.add_argument("--format", default="docx,pdf", help="docx,pdf,html")
        parser.add_argument("--issue", action="store_true", help="Draft and issue with a number.")
        parser.add_argument("--as-user", metavar="USERNAME", help="Whom the audit trail names.")

    def handle(self, *args, **options):
        out = Path(options["out"])
        try:
            if not options["issue"]:
                release = bulletins.release_for(options["year"])
                paths = render_bulletin(
                    release, options["quarter"], options["format"].split(","), out
                )
            else:
                user = command_user(options["as_user"])
                with acting(user):
                    draft = bulletins.draft_bulletin(
                        options["year"], options["quarter"], acting_user=user
                    )
                    issued = bulletins.issue_bulletin(draft, acting_user=user)
                out.mkdir(parents=True, exist_ok=True)
                paths = []
                for fmt, name in issued.files.items():
                    target = out / f"{issued.number}{issued.title}.{fmt}"
                    shutil.copyfile(Path(settings.MEDIA_ROOT) / name, target)
                    paths.append(target)
        except (bulletins.BulletinError, ReportError) as exc:
            raise CommandError(str(exc)) from exc
        for path in paths:
            self.stdout.write(str(path))
