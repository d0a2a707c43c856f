"""``citycheck plan_tasks load [--file FILE]``: the province's own task list (省级任务清单)
from ``data/supervision/plan_tasks.yaml``, checked first (file, line, field)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from citycheck.core.context import acting
from citycheck.supervision import province_tasks
from citycheck.supervision.appraisals import SchemeError

from ..lookups import command_user


class Command(BaseCommand):
    help = "省级任务清单：导入（load）方案的工程和任务及其责任单位。"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["load"])
        parser.add_argument("--file", help="Default data/supervision/plan_tasks.yaml.")
        parser.add_argument("--as-user", metavar="USERNAME", help="Whom the audit trail names.")

    def handle(self, *args, **options):
        user = command_user(options["as_user"])
        try:
            with acting(user):
                count = province_tasks.load_tasks(
                    Path(options["file"]) if options["file"] else None, acting_user=user
                )
        except SchemeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{count} tasks loaded.")
