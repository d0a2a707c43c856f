"""``citycheck systems validate|import|export``: indicator systems as files."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from citycheck.indicators import services
from citycheck.indicators.models import IndicatorSystem


class Command(BaseCommand):
    help = _("校验、导入、导出指标体系文件（及指标对照文件）。")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        validate = actions.add_parser("validate", help=_("校验文件，不写入数据库"))
        validate.add_argument("file", type=Path)
        load = actions.add_parser("import", help=_("校验并导入文件（全部成功或全部不导入）"))
        load.add_argument("file", type=Path)
        export = actions.add_parser("export", help=_("把已导入的指标体系导出为 YAML 文件"))
        export.add_argument("code")
        export.add_argument(
            "--version", dest="system_version", type=int, help=_("年度版本，默认最新")
        )
        export.add_argument("-o", "--output", type=Path, required=True)

    def handle(self, *args, action, **options):
        if action == "export":
            return self.export(options["code"], options["system_version"], options["output"])
        path = options["file"]
        if not path.is_file():
            raise CommandError(_("找不到文件：%(path)s") % {"path": path})
        if action == "validate":
            self.validate(path)
        else:
            self.load(path)

    def fail(self, issues):
        for issue in issues:
            self.stderr.write(str(issue))
        raise CommandError(_("文件有 %(count)s 处错误，未导入任何内容。") % {"count": len(issues)})

    def validate(self, path: Path):
        issues = services.validate_file(path)
        if issues:
            self.fail(issues)
        self.stdout.write(self.style.SUCCESS(_("%(path)s 校验通过。") % {"path": path}))
        if services.file_kind(path) == "system":
            self.write_summary(services.read_system_spec(path).summary())

    def load(self, path: Path):
        try:
            result = services.import_file(path)
        except services.SystemFileError as exc:
            self.fail(exc.issues)
        if isinstance(result, IndicatorSystem):
            self.stdout.write(self.style.SUCCESS(_("已导入 %(system)s。") % {"system": result}))
            self.write_summary(services.system_summary(result))
        else:
            self.stdout.write(
                self.style.SUCCESS(_("已导入 %(count)s 对指标对照。") % {"count": result})
            )

    def export(self, code: str, version: int | None, output: Path):
        systems = IndicatorSystem.objects.filter(code=code)
        if version is not None:
            systems = systems.filter(version=version)
        system = systems.order_by("-version").first()
        if system is None:
            raise CommandError(
                _("没有指标体系 %(code)s %(version)s") % {"code": code, "version": version or ""}
            )
        output.write_text(services.export_system(system), encoding="utf-8")
        self.stdout.write(
            self.style.SUCCESS(
                _("已导出 %(system)s 到 %(path)s。") % {"system": system, "path": output}
            )
        )

    def write_summary(self, summary: dict):
        for dimension, count in summary["per_dimension"].items():
            self.stdout.write(f"  {dimension}: {count}")
        self.stdout.write(
            _("  指标共 %(total)s 项，其中定义有出处 %(cited)s 项。")
            % {"total": summary["indicators"], "cited": summary["cited"]}
        )
