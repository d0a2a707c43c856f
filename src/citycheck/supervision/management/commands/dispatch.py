"""``citycheck dispatch open|remind|close|export --month 2025-06``: the monthly dispatch
(每月调度) from the command line."""

import datetime as dt
import re

from django.core.management.base import BaseCommand, CommandError

from citycheck.core.context import acting
from citycheck.supervision import dispatch
from citycheck.supervision.models import DispatchMonth

from ..lookups import command_user


def month(text: str) -> dt.date:
    found = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    try:
        return dt.date(int(found[1]), int(found[2]), 1)
    except (TypeError, ValueError):
        raise CommandError(f"--month {text}: write it as YYYY-MM, e.g. 2025-06") from None


class Command(BaseCommand):
    help = "每月调度：发起（open）、催报（remind）、截止（close）、导出调度表（export）。"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["open", "remind", "close", "export"])
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--deadline", help="YYYY-MM-DD (open only)")
        parser.add_argument("--out", help="FILE.xlsx (export only)")
        parser.add_argument("--as-user", metavar="USERNAME", help="Whom the audit trail names.")

    def handle(self, *args, **options):
        first = month(options["month"])
        user = command_user(options["as_user"])
        action = options["action"]
        with acting(user):
            if action == "open":
                deadline = (
                    dt.date.fromisoformat(options["deadline"]) if options["deadline"] else None
                )
                row = dispatch.open_month(first, deadline=deadline, acting_user=user)
                self.stdout.write(
                    f"{row}: open, deadline {row.deadline}, {row.reports.count()} cities."
                )
                return
            row = DispatchMonth.objects.filter(month=first).first()
            if row is None:
                raise CommandError(f"--month {options['month']}: no dispatch opened for that month")
            try:
                if action == "remind":
                    reminded = dispatch.remind(row, acting_user=user)
                    names = "、".join(r.place.name_zh for r in reminded) or "none"
                    self.stdout.write(f"{row}: reminded {len(reminded)}: {names}")
                elif action == "close":
                    overdue = dispatch.close_month(row, acting_user=user)
                    names = "、".join(r.place.name_zh for r in overdue) or "none"
                    self.stdout.write(f"{row}: closed; overdue {len(overdue)}: {names}")
                else:
                    if not options["out"]:
                        raise CommandError("export: --out FILE.xlsx is required")
                    with open(options["out"], "wb") as stream:
                        dispatch.export_sheet(row, stream)
                    self.stdout.write(options["out"])
            except dispatch.DispatchError as exc:
                raise CommandError(str(exc)) from exc
