import time

from django.core.management import call_command
from django.core.management.base import BaseCommand

from citycheck.collection.demo import demo_loaded, load_demo
from citycheck.reports.demo import run_demo_cycle


class Command(BaseCommand):
    help = (
        "载入江西演示数据（合成）：地区、指标体系、用户、2021–2025 年体检轮次与数值，"
        "并对已发布轮次完成评价、发布、诊断、复查和项目计划。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the demo is already loaded (used by `make run`).",
        )

    def handle(self, *args, if_empty=False, **options):
        # One process for schema, data and the logins: `make run` starts in seconds when
        # everything is already there.
        call_command("migrate", interactive=False, verbosity=0)
        if if_empty and demo_loaded():
            self.stdout.write("Jiangxi demo already loaded; reusing it.")
            call_command("demo_logins", stdout=self.stdout)
            return
        started = time.perf_counter()

        def report(message):
            self.stdout.write(f"  {message}")

        counts = load_demo(progress=report)
        counts |= run_demo_cycle(progress=report)
        self.stdout.write(
            self.style.SUCCESS(
                f"Jiangxi demo loaded in {time.perf_counter() - started:.1f} s: {counts}"
            )
        )
        call_command("demo_logins", stdout=self.stdout)
