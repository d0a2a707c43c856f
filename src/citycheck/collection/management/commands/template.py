from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from citycheck.collection.excel import build_template
from citycheck.collection.management.lookups import (
    add_round_arguments,
    find_place,
    find_round,
    find_user,
)
from citycheck.collection.models import Source
from citycheck.collection.services import CheckStepError, department_by_code


class Command(BaseCommand):
    help = "写出某地区（及部门）在某体检轮次的 Excel 填报模板。"

    def add_arguments(self, parser):
        add_round_arguments(parser)
        parser.add_argument(
            "--system", help="indicator system code, when a year has several rounds"
        )
        parser.add_argument("--place", required=True, help="division code of the place")
        parser.add_argument("--department", help="department code: only its indicators")
        parser.add_argument(
            "--source", default=Source.SELF_CHECK, choices=[Source.SELF_CHECK, Source.THIRD_PARTY]
        )
        parser.add_argument("--user", help="build as this user (checks their access)")
        parser.add_argument("-o", "--output", required=True, help="the .xlsx file to write")

    def handle(self, *args, **options):
        round_ = find_round(
            options["round"], options["kind"], options["system"], options["province"]
        )
        place = find_place(options["place"])
        user = find_user(options["user"])
        try:
            department = department_by_code(options["department"])
            content = build_template(
                round_, [place], department=department, source=options["source"], acting_user=user
            )
        except CheckStepError as error:
            raise CommandError(error.message) from error
        output = Path(options["output"])
        if output.suffix.lower() != ".xlsx":
            raise CommandError(f"-o {output}: the file name must end in .xlsx")
        output.write_bytes(content)
        self.stdout.write(f"Wrote {output} ({len(content)} bytes) for {place} in {round_}.")
