"""``citycheck projects import FILE.xlsx`` / ``export -o FILE.xlsx`` / ``propose --round YEAR``."""

from django.core.management.base import BaseCommand, CommandError

from citycheck.collection.management.lookups import find_round, find_user
from citycheck.core.context import acting
from citycheck.renewal import services


class Command(BaseCommand):
    help = "项目库：从 Excel 模板导入项目、导出项目库、根据已确认问题生成候选项目。"

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        load = actions.add_parser("import", help="Import projects from the Excel template.")
        load.add_argument("file", metavar="FILE.xlsx")
        load.add_argument("--as-user", metavar="USERNAME")
        export = actions.add_parser("export", help="Write the project library to .xlsx.")
        export.add_argument("-o", "--output", required=True, metavar="FILE.xlsx")
        export.add_argument("--year", type=int)
        export.add_argument(
            "--as-user", metavar="USERNAME", help="Export only what this user may see."
        )
        propose = actions.add_parser("propose", help="Candidate projects from confirmed problems.")
        propose.add_argument("--round", type=int, required=True, metavar="YEAR")
        propose.add_argument("--as-user", metavar="USERNAME")

    def handle(self, *args, **options):
        user = find_user(options.get("as_user"), option="--as-user")
        if options["action"] == "import":
            try:
                with acting(user):
                    projects = services.import_projects(options["file"], acting_user=user)
            except services.ProjectImportError as exc:
                raise CommandError(f"{options['file']}: nothing imported.\n{exc}") from exc
            self.stdout.write(f"{len(projects)} projects imported.")
        elif options["action"] == "export":
            count = services.export_projects(options["output"], user=user, year=options["year"])
            self.stdout.write(f"{count} projects written to {options['output']}.")
        else:
            round_ = find_round(options["round"])
            with acting(user):
                projects = services.propose_projects(round_, acting_user=user)
            self.stdout.write(f"{len(projects)} candidate projects proposed.")
