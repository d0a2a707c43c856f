"""``citycheck assess --round YEAR [--method FILE.yaml]``: run the assessment of a round
(inline, with a progress bar) and print the id of the release it created."""

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from citycheck.assessment import services
from citycheck.assessment.compute import AssessmentError
from citycheck.assessment.methods import MethodError, load_method
from citycheck.collection.management.lookups import add_round_arguments, find_round, find_user
from citycheck.core.context import acting


class Command(BaseCommand):
    help = "评价：计算一个体检轮次的城市健康指数，生成待发布的结果版本并输出其编号。"

    def add_arguments(self, parser):
        add_round_arguments(parser)
        parser.add_argument(
            "--method",
            metavar="FILE.yaml",
            help="Method specification (default data/methods/jiangxi-index-v2.yaml).",
        )
        parser.add_argument(
            "--as-user",
            metavar="USERNAME",
            help="Whom the audit trail names; must be allowed to publish.",
        )

    def handle(self, *args, **options):
        round_ = find_round(options["round"], options["kind"], province=options["province"])
        user = find_user(options["as_user"], option="--as-user")
        try:
            spec = load_method(options["method"])
            with (
                tqdm(
                    total=100, unit="%", disable=options["verbosity"] == 0, file=self.stderr._out
                ) as bar,
                acting(user),
            ):

                def report(progress, message):
                    bar.set_description_str(message[:40])
                    bar.update(max(0, round(progress) - bar.n))

                release = services.run_assessment(round_, spec, acting_user=user, report=report)
        except (MethodError, AssessmentError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(release.pk))
