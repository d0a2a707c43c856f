"""``citycheck monitor``: load the monitoring files, import observations, evaluate the
rules, list warnings, issue and revoke ingest tokens."""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from citycheck.core.context import acting
from citycheck.places.models import Place

from ... import services
from ...loading import MonitoringFileError, load_monitoring
from ...models import EarlyWarning, Feed, IngestToken, period_label


class Command(BaseCommand):
    help = "监测预警：load | import FILE | evaluate [--as-of DATE] | warnings --place CODE | token | revoke"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="load data/monitoring (feeds, indicators, rules)")
        load.add_argument("folder", nargs="?")
        importing = sub.add_parser("import", help="import observations from a CSV or Excel file")
        importing.add_argument("file")
        evaluate = sub.add_parser(
            "evaluate", help="evaluate the rules and escalate overdue warnings"
        )
        evaluate.add_argument("--as-of", help="YYYY-MM-DD (default: today)")
        warnings = sub.add_parser("warnings", help="list the warnings under a place")
        warnings.add_argument("--place", required=True)
        warnings.add_argument("--all", action="store_true", help="closed ones too")
        token = sub.add_parser("token", help="issue an ingest token (the key is shown once)")
        token.add_argument("--feed", required=True)
        token.add_argument("--place", required=True)
        token.add_argument("--name", required=True)
        token.add_argument("--rate", default="", help='e.g. "600/minute"')
        revoke = sub.add_parser("revoke", help="revoke an ingest token by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args, action, **options):
        with acting(None):
            getattr(self, f"do_{action}")(**options)

    def do_load(self, folder=None, **options):
        try:
            counts = load_monitoring(Path(folder) if folder else None)
        except MonitoringFileError as bad:
            raise CommandError(str(bad)) from None
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in counts.items()))

    def do_import(self, file, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            result = services.import_file(path.name, path.read_bytes())
        except services.ImportRefused as refused:
            lines = [f"{path.name}:{r.row}: {r.field}: {r.reason}" for r in refused.refusals]
            raise CommandError("\n".join([str(refused), *lines])) from None
        except services.MonitoringError as bad:
            raise CommandError(f"{path.name}: {bad}") from None
        self.stdout.write(
            f"accepted {result.accepted}, unchanged {result.unchanged}"
            + (" (imported before)" if result.replayed else "")
        )

    def do_evaluate(self, as_of=None, **options):
        try:
            day = dt.date.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise CommandError(f"--as-of {as_of!r}: write the date as YYYY-MM-DD") from None
        counts = services.evaluate(day)
        escalated = services.escalate_overdue(day)
        self.stdout.write(
            f"raised {counts['raised']}, updated {counts['updated']}, escalated {escalated}"
        )

    def do_warnings(self, place, all=False, **options):
        root = Place.objects.filter(code=place).first()
        if root is None:
            raise CommandError(f"--place {place}: no such place")
        warnings = EarlyWarning.objects.filter(place__path__startswith=root.path).select_related(
            "place", "rule", "indicator", "department", "escalated_to"
        )
        if not all:
            warnings = warnings.not_closed()
        for w in warnings.order_by("place__code", "rule__code"):
            escalated = f" → {w.escalated_to.code}" if w.escalated_to else ""
            overdue = " overdue" if w.is_overdue else ""
            self.stdout.write(
                f"#{w.pk} {w.place.code} {w.place.name_zh} {w.rule.code} {w.level} "
                f"{period_label(w.indicator.frequency, w.period)} value={w.value:g} "
                f"{w.status}{overdue}{escalated} deadline={w.deadline} dept={w.department.code}"
            )

    def do_token(self, feed, place, name, rate="", **options):
        feed_row = Feed.objects.filter(code=feed).first()
        place_row = Place.objects.filter(code=place).first()
        if feed_row is None or place_row is None:
            raise CommandError("unknown --feed or --place")
        token, key = services.create_token(
            name, feed=feed_row, place=place_row, acting_user=None, rate=rate
        )
        self.stdout.write(f"token {token.prefix}… for {feed} under {place} (shown once):\n{key}")

    def do_revoke(self, prefix, **options):
        tokens = list(IngestToken.objects.filter(prefix=prefix, revoked__isnull=True))
        if len(tokens) != 1:
            raise CommandError(f"{prefix}: {len(tokens)} active tokens with this prefix")
        services.revoke_token(tokens[0], acting_user=None)
        self.stdout.write(f"revoked {prefix}")
