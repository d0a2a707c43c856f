"""``citycheck scheduler [--once]``: run the periodic tasks when due (every minute)."""

import time

from django.core.management.base import BaseCommand

from citycheck.core.schedule import REGISTRY, autodiscover, run_due


class Command(BaseCommand):
    help = "运行到期的定期任务（监测评估、逾期升级、每日摘要、数据接入）。"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run what is due once, then stop")
        parser.add_argument("--interval", type=int, default=60, help="seconds between checks")

    def handle(self, *args, once=False, interval=60, **options):
        autodiscover()
        self.stdout.write(f"periodic tasks: {', '.join(sorted(REGISTRY)) or '—'}")
        while True:
            ran = run_due()
            if ran:
                self.stdout.write(f"ran: {', '.join(ran)}")
            if once:
                return
            time.sleep(interval)
