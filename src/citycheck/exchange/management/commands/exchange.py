"""``citycheck exchange``: this instance's key, peers, mappings, packages (submit, export,
import, receipts) and a national peer for trying a submission (docs/exchange.md)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from citycheck.collection.models import Round
from citycheck.core.context import acting
from citycheck.places.models import Place

from ... import conf, services
from ...mappings import MappingError, coverage, mapping_files, read_mapping
from ...models import OutgoingPackage, Peer, PeerRelation


def _user(username):
    from citycheck.accounts.models import User

    try:
        return User.objects.get(username=username)
    except User.DoesNotExist as exc:
        raise CommandError(f"no user {username!r}") from exc


def _round(text: str) -> Round:
    """A round named ``YEAR`` or ``YEAR:SYSTEM``."""
    year, _sep, system = text.partition(":")
    rounds = Round.objects.filter(year=int(year)) if year.isdigit() else Round.objects.none()
    if system:
        rounds = rounds.filter(system__code=system)
    found = list(rounds[:2])
    if len(found) != 1:
        raise CommandError(f"round {text!r}: found {len(found)} (name it YEAR or YEAR:SYSTEM)")
    return found[0]


class Command(BaseCommand):
    help = "平台间互联互通：密钥、对端平台、代码映射、报送、导出与导入数据包。"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("whoami", help="this instance's code, mode and public key (JSON)")
        peer = sub.add_parser("peer", help="record a peer instance")
        peer.add_argument("code")
        peer.add_argument("--name", required=True)
        peer.add_argument("--relation", choices=PeerRelation.values, required=True)
        peer.add_argument("--public-key", required=True)
        peer.add_argument("--url", default="")
        peer.add_argument("--place", help="division code the peer reports for (lower peers)")
        mappings = sub.add_parser("mappings", help="check mapping files and report coverage")
        mappings.add_argument("files", nargs="*")
        for name in ("submit", "export"):
            command = sub.add_parser(name)
            command.add_argument("round", help="YEAR or YEAR:SYSTEM")
            command.add_argument("--peer", required=True)
            command.add_argument("--user", required=True, help="a provincial administrator")
            command.add_argument("--all", action="store_true", help="every value, not only changes")
            command.add_argument(
                "--with",
                dest="parts",
                nargs="+",
                default=[],
                choices=["release", "problems", "projects"],
                help="also the round's published release, problem list, project list",
            )
            if name == "export":
                command.add_argument("--out", required=True, help="package file to write")
        importing = sub.add_parser("import", help="receive a package file (offline hand-over)")
        importing.add_argument("file")
        importing.add_argument("--receipt", required=True, help="receipt file to write")
        receipt = sub.add_parser("receipt", help="enter a receipt file in the ledger")
        receipt.add_argument("file")
        receipt.add_argument("--user", required=True)
        demo = sub.add_parser(
            "demo-peer", help="set up and serve a national instance to submit to (demo)"
        )
        demo.add_argument("--port", type=int, default=8001)
        demo.add_argument("--dir", help="its database and key (default: var/demo-peer)")
        demo.add_argument("--lower-code", default="jiangxi")
        demo.add_argument("--lower-key", help="default: this checkout's var/exchange_key")
        demo.add_argument("--year", type=int, action="append", help="rounds to open")
        demo.add_argument(
            "--system", action="append", help="a further system file to publish (repeatable)"
        )
        demo.add_argument("--setup-only", action="store_true")
        demo.add_argument("--serve-only", action="store_true")

    def handle(self, *args, action, **options):
        try:
            getattr(self, "do_" + action.replace("-", "_"))(**options)
        except services.ExchangeError as error:
            raise CommandError(error.message) from error
        except services.Refusal as refusal:
            raise CommandError(f"{refusal.code}: {refusal.message}") from refusal

    def do_whoami(self, **options):
        self.stdout.write(json.dumps(services.describe_instance(), ensure_ascii=False))

    def do_peer(self, *, code, name, relation, public_key, url, place, **options):
        place_obj = Place.objects.filter(code=place).first() if place else None
        if place and place_obj is None:
            raise CommandError(f"no place {place}")
        peer = services.save_peer(
            code=code, name=name, relation=relation, public_key=public_key, url=url, place=place_obj
        )
        self.stdout.write(f"peer {peer.code} recorded")

    def do_mappings(self, *, files, **options):
        from citycheck.indicators.models import IndicatorSystem

        failed = False
        for path in [Path(f) for f in files] or mapping_files():
            try:
                mapping = read_mapping(path)
            except MappingError as error:
                failed = True
                for issue in error.issues:
                    self.stderr.write(str(issue))
                continue
            system = IndicatorSystem.objects.filter(
                code=mapping.ours[0], version=mapping.ours[1]
            ).first()
            if system is None:
                self.stdout.write(f"{path}: valid; system {mapping.ours} not loaded, no coverage")
                continue
            ours = dict(system.all_indicators().values_list("code", "unit"))
            table = coverage(mapping, ours)
            counts = table["status"].value_counts().to_dict()
            self.stdout.write(f"{path}: valid; coverage {counts}")
            for row in table[table["status"] != "mapped"].itertuples():
                self.stdout.write(f"  {row.ours}\t{row.status}\t{row.note}")
        if failed:
            raise CommandError("mapping files have problems")

    def _prepare(self, round, peer, user, all, parts=(), **options) -> OutgoingPackage:
        user = _user(user)
        with acting(user):
            return services.prepare_package(
                _round(round),
                Peer.objects.get(code=peer),
                acting_user=user,
                only_changed=not all,
                parts=[f"{name}.csv" for name in parts],
            )

    def do_submit(self, **options):
        outgoing = self._prepare(**options)
        user = _user(options["user"])
        with acting(user):
            outgoing = services.send_package(outgoing, acting_user=user)
        self.stdout.write(
            f"{outgoing.package_id}: {outgoing.get_state_display()} "
            f"({outgoing.accepted_rows} accepted, {outgoing.rejected_rows} rejected) {outgoing.error}"
        )
        if not outgoing.has_receipt:
            raise CommandError(outgoing.error)

    def do_export(self, *, out, **options):
        outgoing = self._prepare(**options)
        Path(out).write_text(outgoing.package, encoding="utf-8")
        self.stdout.write(f"{outgoing.package_id}: {outgoing.rows} rows → {out}")

    def do_import(self, *, file, receipt, **options):
        document = services.read_body(Path(file).read_bytes(), gzipped=False)
        answer, repeated = services.receive_package(document, channel="file")
        Path(receipt).write_text(json.dumps(answer, ensure_ascii=False), encoding="utf-8")
        body = answer["body"]
        self.stdout.write(
            f"{body['package_id']}: {body['state']} {body['counts']}"
            + (" (already received)" if repeated else "")
        )

    def do_receipt(self, *, file, user, **options):
        answer = json.loads(Path(file).read_text(encoding="utf-8"))
        package_id = (answer.get("body") or {}).get("package_id")
        outgoing = OutgoingPackage.objects.filter(package_id=package_id).first()
        if outgoing is None:
            raise CommandError(f"no package {package_id!r} in the ledger")
        user = _user(user)
        with acting(user):
            outgoing = services.apply_receipt(outgoing, answer, acting_user=user)
        self.stdout.write(f"{outgoing.package_id}: {outgoing.get_state_display()}")

    def do_demo_peer(
        self, *, port, dir, lower_code, lower_key, year, system, setup_only, serve_only, **o
    ):
        """Run this same command again in a child process configured as the national
        instance (its own database and key under ``--dir``), which sets itself up and
        serves on ``--port``."""
        if conf.instance_mode() != "national":
            from citycheck.exchange import demo_peer as _demo_peer
            from citycheck.exchange.demo import demo_peer_directory

            directory = Path(dir).resolve() if dir else demo_peer_directory()
            directory.mkdir(parents=True, exist_ok=True)
            key = lower_key or services.describe_instance()["public_key"]
            env = _demo_peer.environment(directory)
            argv = [
                sys.executable,
                "-m",
                "citycheck",
                "exchange",
                "demo-peer",
                "--port",
                str(port),
                "--lower-code",
                lower_code,
                "--lower-key",
                key,
            ]
            argv += [a for y in (year or []) for a in ("--year", str(y))]
            argv += [a for f in (system or []) for a in ("--system", str(Path(f).resolve()))]
            argv += ["--setup-only"] if setup_only else []
            argv += ["--serve-only"] if serve_only else []
            self.stdout.write(f"national peer: {directory} http://127.0.0.1:{port}/")
            os.execve(sys.executable, argv, env)
        from citycheck.exchange import demo_peer as _demo_peer

        if not serve_only:
            call_command("migrate", verbosity=0)
            with transaction.atomic():
                counts = _demo_peer.set_up(
                    lower_code, lower_key, year or range(2021, 2026), system or []
                )
            self.stdout.write(f"national peer set up: {counts}")
        if not setup_only:
            call_command(
                "runserver", f"127.0.0.1:{port}", use_reloader=False, insecure_serving=True
            )
