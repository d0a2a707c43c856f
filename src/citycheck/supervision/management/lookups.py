"""Who a supervision command acts as: ``--as-user``, else the province's administrator."""

from django.core.management.base import CommandError

from citycheck.accounts.models import User
from citycheck.collection.management.lookups import find_user
from citycheck.core.choices import Role


def command_user(username: str | None) -> User:
    user = find_user(username, option="--as-user")
    if user is None:
        user = (
            User.objects.filter(role=Role.PROVINCE_ADMIN, is_active=True, place__level="province")
            .order_by("pk")
            .first()
        )
    if user is None:
        raise CommandError("--as-user: no province administrator found; name one")
    return user
