"""``citycheck survey questionnaire|import|weight|export``: the satisfaction survey from
the console (the same services as the pages)."""

import csv
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from citycheck.collection.management.lookups import add_round_arguments, find_round, find_user
from citycheck.core.context import acting
from citycheck.survey import services
from citycheck.survey.models import Channel, Response, Survey
from citycheck.survey.views import read_table
from citycheck.survey.weighting import weight_survey


class _File:
    """An uploaded-file look-alike for :func:`citycheck.survey.views.read_table`."""

    def __init__(self, path: Path):
        self.name, self.size, self._handle = path.name, path.stat().st_size, path.open("rb")

    def read(self, *args):
        return self._handle.read(*args)

    def seek(self, *args):
        return self._handle.seek(*args)

    def tell(self):
        return self._handle.tell()

    def close(self):
        self._handle.close()


class Command(BaseCommand):
    help = _("满意度调查：导入问卷、导入答卷、加权、导出答卷（不含身份信息，含权重）。")

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        questionnaire = actions.add_parser("questionnaire", help=_("校验并导入问卷文件"))
        questionnaire.add_argument("file", type=Path)
        streets = actions.add_parser(
            "streets", help=_("导入街道（乡镇）名单（CSV：county,code,name_zh,name_en,synthetic）")
        )
        streets.add_argument("file", type=Path)
        load = actions.add_parser(
            "import", help=_("导入答卷（CSV 或 Excel，全部成功或全部不导入）")
        )
        load.add_argument("file", type=Path)
        add_round_arguments(load)
        load.add_argument("--dry-run", action="store_true", help=_("只检查，列出全部问题"))
        weight = actions.add_parser("weight", help=_("加权并计算得分"))
        add_round_arguments(weight)
        export = actions.add_parser("export", help=_("导出答卷及权重（CSV）"))
        add_round_arguments(export)
        export.add_argument("-o", "--output", type=Path, required=True)
        for sub in (questionnaire, streets, load, weight, export):
            sub.add_argument("--as-user", metavar="USERNAME", help=_("审计记录中的操作人"))

    def handle(self, *args, action, **options):
        user = find_user(options.get("as_user"), option="--as-user")
        with acting(user):
            try:
                getattr(self, f"do_{action}")(options, user)
            except (ValidationError, PermissionDenied) as exc:
                messages = getattr(exc, "messages", [str(exc)])
                raise CommandError("\n".join(messages)) from exc

    def survey(self, options) -> Survey:
        round_ = find_round(options["round"], options["kind"], province=options["province"])
        survey = Survey.objects.filter(round=round_).select_related("questionnaire").first()
        if survey is None:
            raise CommandError(
                _("--round %(year)s：该轮次没有满意度调查") % {"year": options["round"]}
            )
        return survey

    def do_questionnaire(self, options, user):
        try:
            questionnaire = services.import_questionnaire(options["file"], acting_user=user)
        except services.QuestionnaireFileError as exc:
            for issue in exc.issues:
                self.stderr.write(str(issue))
            raise CommandError(
                _("文件有 %(count)s 处错误，未导入任何内容。") % {"count": len(exc.issues)}
            ) from exc
        self.stdout.write(self.style.SUCCESS(_("已导入 %(q)s。") % {"q": questionnaire}))

    def do_streets(self, options, user):
        try:
            count = services.load_streets(options["file"])
        except services.ResponseImportError as exc:
            for issue in exc.issues:
                self.stderr.write(f"{options['file']}: {issue}")
            raise CommandError(
                _("文件有 %(count)s 处错误，未导入任何内容。") % {"count": len(exc.issues)}
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(_("已导入 %(count)d 个街道（乡镇）。") % {"count": count})
        )

    def do_import(self, options, user):
        survey = self.survey(options)
        path = options["file"]
        if not path.is_file():
            raise CommandError(_("找不到文件：%(path)s") % {"path": path})
        upload = _File(path)
        try:
            rows = read_table(upload)
        finally:
            upload.close()
        stored, issues = services.record_responses(
            survey, rows, acting_user=user, channel=Channel.IMPORT, dry_run=options["dry_run"]
        )
        if issues:
            for issue in issues:
                self.stderr.write(str(issue))
            raise CommandError(
                _("文件有 %(count)s 处错误，未导入任何答卷。") % {"count": len(issues)}
            )
        if options["dry_run"]:
            self.stdout.write(
                self.style.SUCCESS(_("检查通过：%(count)d 行均无问题。") % {"count": len(rows)})
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(_("已导入 %(count)d 份答卷。") % {"count": stored})
            )

    def do_weight(self, options, user):
        summary = weight_survey(self.survey(options), acting_user=user)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "有效答卷 %(counted)s 份，排除 %(excluded)s 份；设计效应 %(deff)s，有效样本量 %(effective_n)s。"
                )
                % summary
            )
        )

    def do_export(self, options, user):
        survey = self.survey(options)
        items = [i["code"] for i in survey.questionnaire.items]
        rows = Response.objects.filter(survey=survey).select_related("place").order_by("pk")
        with options["output"].open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                ["response", "channel", "county", "street", "flags", "counted", "weight", *items]
            )
            for row in rows.iterator(chunk_size=2000):
                answers = row.answers
                writer.writerow(
                    [
                        row.pk,
                        row.channel,
                        row.place.code,
                        row.street,
                        ";".join(row.flags),
                        int(row.counted),
                        "" if row.weight is None else f"{row.weight:.6g}",
                        *(
                            ";".join(answers[c])
                            if isinstance(answers.get(c), list)
                            else answers.get(c, "")
                            for c in items
                        ),
                    ]
                )
        self.stdout.write(
            self.style.SUCCESS(
                _("已导出 %(count)d 份答卷到 %(path)s。")
                % {"count": rows.count(), "path": options["output"]}
            )
        )
