import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from citycheck.collection import services
from citycheck.collection.management.lookups import (
    add_province_argument,
    find_place,
    find_round,
    find_user,
)
from citycheck.collection.models import RoundStatus
from citycheck.collection.reminders import send_reminders
from citycheck.indicators.models import IndicatorSystem
from citycheck.places.models import Place, PlaceLevel


class Command(BaseCommand):
    help = "开启、关闭或列出体检轮次。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        opening = sub.add_parser("open", help="open a round for every city and county")
        opening.add_argument("--year", type=int, required=True)
        opening.add_argument("--kind", default="annual")
        opening.add_argument("--system", required=True, help="indicator system code")
        opening.add_argument("--system-version", type=int, help="default: the newest")
        opening.add_argument("--deadline", type=dt.date.fromisoformat, help="YYYY-MM-DD")
        opening.add_argument("--user", required=True, help="a provincial administrator")
        add_province_argument(opening)
        for name in ("close", "reopen"):
            parser_ = sub.add_parser(name)
            parser_.add_argument("--year", type=int, required=True)
            parser_.add_argument("--kind", default="annual")
            parser_.add_argument("--system")
            parser_.add_argument("--user", required=True)
            add_province_argument(parser_)
        sub.add_parser("list")
        remind = sub.add_parser(
            "remind", help="send today's deadline reminders (idempotent per day)"
        )
        remind.add_argument(
            "--today", type=dt.date.fromisoformat, help="YYYY-MM-DD (default: today)"
        )

    def handle(self, *args, action, **options):
        if action == "list":
            for round_ in services.Round.objects.select_related("system", "scope"):
                scope = round_.scope.code if round_.scope else "-"
                self.stdout.write(
                    f"{round_.year} {round_.kind} {round_.system.code} {scope} {round_.status} "
                    f"deadline={round_.deadline} places={round_.places.count()}"
                )
            return
        if action == "remind":
            created = send_reminders(options["today"])
            self.stdout.write(f"Sent {len(created)} reminder(s).")
            return
        user = find_user(options["user"])
        if action == "open":
            systems = IndicatorSystem.objects.filter(code=options["system"])
            if options["system_version"]:
                systems = systems.filter(version=options["system_version"])
            system = systems.order_by("-version").first()
            if system is None:
                raise CommandError(f"--system {options['system']}: no such indicator system")
            places = Place.objects.filter(
                level__in=[PlaceLevel.CITY, PlaceLevel.COUNTY], active=True
            )
            if options["province"]:
                places = places.subtree_of(find_place(options["province"]))
            round_ = services.open_round(
                year=options["year"],
                kind=options["kind"],
                system=system,
                places=list(places),
                deadline=options["deadline"],
                acting_user=user,
            )
            self.stdout.write(f"Opened {round_} for {places.count()} places.")
            return
        round_ = find_round(
            options["year"], options["kind"], options["system"], options["province"]
        )
        status = RoundStatus.CLOSED if action == "close" else RoundStatus.OPEN
        services.set_round_status(round_, status, acting_user=user)
        self.stdout.write(f"{round_}: {status}.")
