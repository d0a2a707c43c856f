"""``citycheck release show|diff|publish|export``: look at, compare, publish and export
releases of the city health index."""

import json

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from citycheck.assessment import services
from citycheck.assessment.models import Level, Release
from citycheck.collection.management.lookups import find_user
from citycheck.core.context import acting


def find_release(pk: int) -> Release:
    try:
        return Release.objects.select_related("round", "scope").get(pk=pk)
    except Release.DoesNotExist:
        raise CommandError(f"no release #{pk}.") from None


class Command(BaseCommand):
    help = "评价结果版本：查看、比较、发布、导出。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-user",
            metavar="USERNAME",
            help="Whom the audit trail names; must be allowed to publish.",
        )
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("show", help="Summary and ranking of a release.").add_argument(
            "id", type=int
        )
        diff = sub.add_parser("diff", help="What changed between two releases, and why.")
        diff.add_argument("a", type=int)
        diff.add_argument("b", type=int)
        sub.add_parser("publish", help="Make a release public.").add_argument("id", type=int)
        export = sub.add_parser(
            "export",
            help="One CSV row per place and level (-o), or everything needed to recompute "
            "the release (--bundle DIR: values, system, standards, method, manifest).",
        )
        export.add_argument("id", type=int)
        target = export.add_mutually_exclusive_group(required=True)
        target.add_argument("-o", "--output", metavar="FILE.csv")
        target.add_argument("--bundle", metavar="DIR")

    def handle(self, *args, subcommand, as_user=None, **options):
        user = find_user(as_user, option="--as-user")
        try:
            with acting(user):
                getattr(self, f"_{subcommand}")(user=user, **options)
        except (services.PublishError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from exc

    def _show(self, *, id, user, **options):
        release = find_release(id)
        out = self.stdout.write
        out(f"release #{release.pk}  round {release.round.year}  status {release.status}")
        out(f"method {release.method_code} v{release.method_version}  code {release.code_version}")
        out(f"inputs sha256 {release.input_digest}")
        for level, details in release.details.get("levels", {}).items():
            out(
                f"{level}: {details['ranked']} of {details['places']} places ranked"
                + (
                    f"; screened out {', '.join(details['screened_out'])}"
                    if details["screened_out"]
                    else ""
                )
            )
        rows = (
            release.results.filter(level=Level.INDEX)
            .select_related("place")
            .order_by("place__level", "rank", "place__code")
        )
        out(f"{'rank':>4}  {'interval':>9}  {'peer':>4}  {'index':>7}  place")
        for row in rows:
            out(
                f"{row.rank:>4}  {f'{row.rank_low}–{row.rank_high}':>9}  {row.peer_rank:>4}  "
                f"{row.score:7.2f}  {row.place.code} {row.place.name_zh}"
            )

    def _diff(self, *, a, b, **options):
        diff = services.diff_releases(find_release(a), find_release(b))
        out = self.stdout.write
        if diff.same:
            out(f"releases #{a} and #{b} are identical (inputs, method and results).")
            return
        for path, before, after in diff.method:
            out(
                f"method  {path}: {json.dumps(before, ensure_ascii=False)} → "
                f"{json.dumps(after, ensure_ascii=False)}"
            )
        for item in diff.inputs:
            out(f"input   {item['kind']} {item['key']}: {item['before']} → {item['after']}")
        for row in diff.results:
            out(
                f"result  {row['place']} {row['place_name']} {row['level']}:{row['code']} "
                f"score {_number(row['score_a'])} → {_number(row['score_b'])}, "
                f"rank {row['rank_a']} → {row['rank_b']}  ({'; '.join(row['reasons'])})"
            )

    def _publish(self, *, id, user, **options):
        release = services.publish_release(find_release(id), acting_user=user)
        self.stdout.write(
            f"release #{release.pk} published at {release.published_at:%Y-%m-%d %H:%M}"
        )

    def _export(self, *, id, output=None, bundle=None, **options):
        if bundle:
            manifest = services.export_release_bundle(find_release(id), bundle)
            self.stdout.write(f"{len(manifest['files']) + 1} files written to {bundle}")
            return
        count = services.export_release_csv(find_release(id), output)
        self.stdout.write(f"{count} rows written to {output}")


def _number(value) -> str:
    return "—" if value is None else f"{value:.4f}"
