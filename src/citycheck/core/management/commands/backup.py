"""``citycheck backup -o FILE``: the database and media files in one archive."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from citycheck.core.backup import BackupError, backup


class Command(BaseCommand):
    help = "备份数据库和媒体文件到一个归档文件（.tar.gz）。"

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", required=True, help="the archive to write")

    def handle(self, *args, output, **options):
        target = Path(output).resolve()
        if not target.parent.is_dir():
            raise CommandError(f"no folder {target.parent}")
        try:
            manifest = backup(target)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{target}: {manifest['vendor']} database and {manifest['media_files']} media "
            f"files, {manifest['created']}"
        )
