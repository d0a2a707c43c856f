"""``citycheck diagnose --round YEAR``: write the problem lists (问题清单) of a round."""

from django.core.management.base import BaseCommand

from citycheck.collection.management.lookups import add_round_arguments, find_round, find_user
from citycheck.core.context import acting
from citycheck.diagnosis import services


class Command(BaseCommand):
    help = "诊断：按城市病目录对一个体检轮次运行诊断规则，生成各地问题清单。"

    def add_arguments(self, parser):
        add_round_arguments(parser)
        parser.add_argument("--as-user", metavar="USERNAME", help="Whom the audit trail names.")

    def handle(self, *args, **options):
        round_ = find_round(options["round"], options["kind"], province=options["province"])
        user = find_user(options["as_user"], option="--as-user")
        with acting(user):
            problems = services.run_diagnosis(round_, acting_user=user)
        places = len({p.place_id for p in problems})
        self.stdout.write(f"{round_.year}: {len(problems)} problems in {places} places.")
