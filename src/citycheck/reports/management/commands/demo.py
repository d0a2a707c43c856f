import time

from django.core.management import call_command
from django.core.management.base import BaseCommand

from citycheck.core.demo import pending_stages, run_demo


class Command(BaseCommand):
    help = (
        "载入江西演示数据（合成）：地区、指标体系、用户、2021–2025 年体检轮次与数值，"
        "并对已发布轮次完成评价、发布、诊断、复查和项目计划。中断后再次运行从未完成的阶段继续。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the demo is already loaded (used by `make run`); "
            "a set-up that was interrupted resumes at its unfinished stage.",
        )

    def handle(self, *args, if_empty=False, **options):
        # One process for schema, data and the logins: `make run` starts in seconds when
        # everything is already there.
        call_command("migrate", interactive=False, verbosity=0)
        pending = [name for name, _ in pending_stages()]
        if if_empty and not pending:
            self.stdout.write("Jiangxi demo already loaded; reusing it.")
            call_command("demo_logins", stdout=self.stdout)
            return
        started = time.perf_counter()

        def report(message):
            self.stdout.write(f"  {message}")

        counts = run_demo(progress=report)
        self.stdout.write(
            self.style.SUCCESS(
                f"Jiangxi demo loaded in {time.perf_counter() - started:.1f} s: {counts}"
            )
        )
        call_command("demo_logins", stdout=self.stdout)
