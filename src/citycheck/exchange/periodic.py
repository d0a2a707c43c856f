"""The exchange's periodic tasks (run by :func:`citycheck.core.schedule.run_due`)."""

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied

from citycheck.core.schedule import periodic

from . import services, upload
from .models import LedgerState, OutgoingPackage

logger = logging.getLogger(__name__)

# A package still undelivered after this many attempts waits for a person to send it again
# from the ledger: a receiver down for hours is something to look into, not to hammer.
MAX_AUTOMATIC_ATTEMPTS = 12


@periodic("exchange.remove_stale_uploads", every=dt.timedelta(hours=1))
def remove_stale_uploads(now):
    return upload.remove_stale(now)


@periodic("exchange.resend_undelivered", every=dt.timedelta(minutes=15))
def resend_undelivered(now):
    """Send again, once each run and on behalf of the person who submitted it, every package
    the receiver could not be reached for; the ledger records each attempt as a manual
    resend would."""
    counts = {"resent": 0, "receipted": 0}
    waiting = OutgoingPackage.objects.filter(
        state=LedgerState.UNDELIVERED,
        attempts__lt=MAX_AUTOMATIC_ATTEMPTS,
        created_by__isnull=False,
    ).select_related("peer", "created_by")
    for outgoing in waiting:
        try:
            outgoing = services.send_package(outgoing, acting_user=outgoing.created_by, attempts=1)
        except (services.ExchangeError, PermissionDenied) as exc:
            logger.warning("exchange: %s not resent: %s", outgoing.package_id, exc)
            continue
        counts["resent"] += 1
        counts["receipted"] += outgoing.has_receipt
    return counts
