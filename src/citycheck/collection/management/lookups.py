"""Look-ups shared by the ``citycheck`` commands of every app from the check step on;
each raises CommandError naming the option."""

from django.core.management.base import CommandError

from citycheck.accounts.models import User
from citycheck.collection.models import Round, RoundKind
from citycheck.places.models import Place


def add_round_arguments(parser) -> None:
    """``--round YEAR``, ``--kind`` (annual by default) and ``--province`` (a national
    instance's province running the round), read back by :func:`find_round`."""
    parser.add_argument("--round", type=int, required=True, metavar="YEAR")
    parser.add_argument("--kind", default=RoundKind.ANNUAL, choices=RoundKind.values)
    add_province_argument(parser)


def add_province_argument(parser) -> None:
    parser.add_argument(
        "--province",
        metavar="CODE",
        help="division code of the province (or nation) running the round, when several do",
    )


def find_round(
    year: int, kind: str = "annual", system: str | None = None, province: str | None = None
) -> Round:
    rounds = Round.objects.filter(year=year, kind=kind).select_related("system")
    if system:
        rounds = rounds.filter(system__code=system)
    if province:
        rounds = rounds.filter(scope__code=province)
    found = list(rounds[:2])
    if not found:
        raise CommandError(
            f"--round {year}: no {kind} round of that year"
            + (f" for system {system}" if system else "")
            + (f" run by {province}" if province else "")
        )
    if len(found) > 1:
        raise CommandError(
            f"--round {year}: several {kind} rounds that year; name one with --system"
            " (and --province where several provinces run one)"
        )
    return found[0]


def find_place(code: str) -> Place:
    try:
        return Place.objects.get(code=code)
    except Place.DoesNotExist as missing:
        raise CommandError(f"--place {code}: no place with that division code") from missing


def find_user(username: str | None, *, option: str = "--user") -> User | None:
    """The user named by ``option``; None when the option was not given."""
    if not username:
        return None
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist as missing:
        raise CommandError(f"{option} {username}: no such user") from missing
