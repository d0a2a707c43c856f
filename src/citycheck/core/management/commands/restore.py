"""``citycheck restore FILE``: put back the database and media files of a backup."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from citycheck.core.backup import BackupError, read_manifest, restore


class Command(BaseCommand):
    help = "从备份归档恢复数据库和媒体文件（替换当前的全部数据）。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="an archive written by `citycheck backup`")
        parser.add_argument(
            "--yes", action="store_true", help="do not ask; replace the current data"
        )

    def handle(self, *args, file, yes=False, **options):
        source = Path(file)
        if not source.is_file():
            raise CommandError(f"no file {source}")
        try:
            manifest = read_manifest(source)
            if not yes and options.get("interactive", True):
                answer = input(
                    f"Replace ALL current data with the backup of {manifest['created']}? "
                    "Type 'yes' to continue: "
                )
                if answer.strip() != "yes":
                    raise CommandError("restore cancelled; nothing changed")
            restore(source)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"restored the backup of {manifest['created']} ({manifest['vendor']})")
