"""``citycheck recheck --round YEAR``: re-check the previous round's problems against YEAR."""

from django.core.management.base import BaseCommand

from citycheck.collection.management.lookups import add_round_arguments, find_round, find_user
from citycheck.core.context import acting
from citycheck.diagnosis import services


class Command(BaseCommand):
    help = "复查：对上一轮问题逐一复查（已解决、好转、未改善、加重）。"

    def add_arguments(self, parser):
        add_round_arguments(parser)
        parser.add_argument("--as-user", metavar="USERNAME", help="Whom the audit trail names.")

    def handle(self, *args, **options):
        round_ = find_round(options["round"], options["kind"], province=options["province"])
        user = find_user(options["as_user"], option="--as-user")
        with acting(user):
            result = services.recheck_round(round_, acting_user=user)
        if result.empty:
            self.stdout.write(f"{round_.year}: no earlier problem list to re-check.")
            return
        counts = result["status"].value_counts()
        summary = ", ".join(
            f"{status} {counts.get(status, 0)}"
            for status in ("resolved", "improving", "unchanged", "worse")
        )
        self.stdout.write(f"{round_.year}: {len(result)} problems re-checked: {summary}.")
