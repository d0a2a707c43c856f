"""Log records as one JSON object a line, each with the id of the request (or job) it
belongs to, so an operator can follow one request through the web and worker logs.

``settings.LOGGING`` uses :class:`RequestIdFilter` on every handler and
:class:`JsonFormatter` when ``CITYCHECK_LOG_FORMAT=json`` (the production default).
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from .context import current_request_id

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    """Add ``request_id`` (the current request's or command's, "-" outside one)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            request_id = current_request_id()
            record.request_id = str(request_id) if request_id else "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, the record's
    ``extra`` fields and the traceback when there is one."""

    def format(self, record):
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "process": record.process,
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
