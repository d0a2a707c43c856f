"""The exchange's periodic task (run by :func:`citycheck.core.schedule.run_due`)."""

import datetime as dt

from citycheck.core.schedule import periodic

from . import upload


@periodic("exchange.remove_stale_uploads", every=dt.timedelta(hours=1))
def remove_stale_uploads(now):
    return upload.remove_stale(now)
