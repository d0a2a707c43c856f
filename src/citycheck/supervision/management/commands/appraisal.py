"""``citycheck appraisal compute --year 2024`` and ``citycheck appraisal issue --year 2024
[--out DIR]``: the annual assessment (年度考核) from the command line."""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from citycheck.core.context import acting
from citycheck.supervision import appraisals
from citycheck.supervision.models import Appraisal, AppraisalTotal, IssueStatus

from ..lookups import command_user


class Command(BaseCommand):
    help = "年度考核：按考核方案计算（compute）或审定印发（issue）。"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["compute", "issue"])
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument(
            "--scheme", help="Scheme file (default data/supervision/appraisal-YEAR.yaml)."
        )
        parser.add_argument("--out", metavar="DIR", help="Copy the issued files here (issue).")
        parser.add_argument("--as-user", metavar="USERNAME", help="Whom the audit trail names.")

    def handle(self, *args, **options):
        user = command_user(options["as_user"])
        year = options["year"]
        try:
            with acting(user):
                if options["action"] == "compute":
                    scheme = Path(options["scheme"]) if options["scheme"] else None
                    item = appraisals.compute_appraisal(year, acting_user=user, scheme_file=scheme)
                    totals = AppraisalTotal.objects.filter(appraisal=item)
                    self.stdout.write(
                        f"{year}: draft #{item.pk}, {totals.count()} places; "
                        f"commend {totals.filter(outcome='commend').count()}, "
                        f"summon {totals.filter(outcome='summon').count()}"
                    )
                    return
                item = Appraisal.objects.filter(year=year, status=IssueStatus.DRAFT).first()
                if item is None:
                    raise CommandError(f"--year {year}: no draft assessment; run compute first")
                item = appraisals.issue_appraisal(item, acting_user=user)
        except appraisals.SchemeError as exc:
            raise CommandError(str(exc)) from exc
        except appraisals.AppraisalError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{year}: issued {item.number}")
        if options["out"]:
            out = Path(options["out"])
            out.mkdir(parents=True, exist_ok=True)
            for fmt, name in item.files.items():
                target = out / f"{item.number}{year}年度城市体检工作考核结果.{fmt}"
                shutil.copyfile(Path(settings.MEDIA_ROOT) / name, target)
                self.stdout.write(str(target))
