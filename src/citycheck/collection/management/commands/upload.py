from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from citycheck.collection.excel import confirm_upload, discard_upload, preview_upload
from citycheck.collection.management.lookups import find_user
from citycheck.collection.services import CheckStepError
from citycheck.core.context import acting


class Command(BaseCommand):
    help = "校验并导入填好的 Excel 模板（与网页上传相同的检查和留痕）。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="the filled .xlsx template")
        parser.add_argument("--user", required=True, help="the user the upload is made as")
        parser.add_argument("--reason", default="", help="why (kept in the audit trail)")
        parser.add_argument("--dry-run", action="store_true", help="check and show the diff only")

    def handle(self, *args, **options):
        user = find_user(options["user"])
        try:
            with acting(user):
                preview = preview_upload(options["file"], acting_user=user)
                for row in preview.changes.itertuples():
                    self.stdout.write(
                        f"  {row.sheet}!G{row.row} {row.indicator}: {row.stored} → {row.uploaded}"
                    )
                for issue in preview.issues.itertuples():
                    self.stdout.write(f"  [{issue.severity}] {issue.message}")
                self.stdout.write(
                    f"{len(preview.changes)} change(s), {len(preview.issues)} issue(s)."
                )
                if options["dry_run"]:
                    discard_upload(preview)
                    self.stdout.write("Dry run: nothing stored.")
                    return
                result = confirm_upload(preview, acting_user=user, reason=options["reason"])
        except (CheckStepError, PermissionDenied) as error:
            raise CommandError(getattr(error, "message", str(error))) from error
        self.stdout.write(f"Stored {result.changed} changed value(s).")
