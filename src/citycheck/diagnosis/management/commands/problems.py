"""``citycheck problems export --round YEAR -o FILE.xlsx``: the problem list as Excel."""

from django.core.management.base import BaseCommand

from citycheck.collection.management.lookups import add_round_arguments, find_round, find_user
from citycheck.diagnosis import services


class Command(BaseCommand):
    help = "问题清单：导出一个体检轮次的问题清单（Excel）。"

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="Write the problem list to an .xlsx file.")
        add_round_arguments(export)
        export.add_argument("-o", "--output", required=True, metavar="FILE.xlsx")
        export.add_argument(
            "--as-user", metavar="USERNAME", help="Export only what this user may see."
        )

    def handle(self, *args, **options):
        round_ = find_round(options["round"], options["kind"], province=options["province"])
        user = find_user(options["as_user"], option="--as-user")
        count = services.export_problems(round_, options["output"], user=user)
        self.stdout.write(f"{count} problems written to {options['output']}.")
