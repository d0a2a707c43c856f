import logging
import sys
import time
import uuid

from django.contrib import messages
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext

from .context import acting
from .redirects import redirect_within_site

request_logger = logging.getLogger("citycheck.request")


def incoming_request_id(header: str) -> uuid.UUID:
    """The proxy's X-Request-ID when it is a UUID (so its log lines and ours match)."""
    try:
        return uuid.UUID(header)
    except ValueError:
        return uuid.uuid4()


class RequestIdMiddleware:
    """Give every request an id, make its user the actor of the changes it causes, and log
    one line per request (method, path, status, duration, user) under that id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = incoming_request_id(request.headers.get("X-Request-ID", ""))
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        began = time.monotonic()
        with acting(actor, request.id):
            response = self.get_response(request)
            request_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - began) * 1000, 1),
                    "user": actor.pk if actor is not None else None,
                },
            )
        response["X-Request-ID"] = str(request.id)
        return response


class JobLimitMiddleware:
    """A page whose job the user may not start now (too many of theirs are running:
    :class:`citycheck.core.jobs.TooManyJobsError`) goes back where the user came from with
    the reason as a message. The API answers 429 itself (the error is a DRF one)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from .jobs import TooManyJobsError

        if not isinstance(exception, TooManyJobsError):
            return None
        messages.error(request, str(exception))
        return redirect_within_site(request, request.headers.get("Referer", ""), "home")


def _note_database_error(sender, request=None, **kwargs):
    """Mark the request whose handling failed because the database could not be reached
    (Django turns the error into a 500 before the outer middleware sees it)."""
    error = sys.exc_info()[1]
    if request is not None and isinstance(error, (OperationalError, InterfaceError)):
        request.database_unavailable = True


def drop_broken_connections() -> None:
    """Close the connections an error left unusable, so the next use reconnects (also
    where no request signal does it: outside a request, under the test client)."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


got_request_exception.connect(_note_database_error, dispatch_uid="citycheck-database-unavailable")


class DatabaseUnavailableMiddleware:
    """While the database cannot be reached (restarting, overloaded, network), a request
    gets 503 with a sentence saying so and when to try again — JSON under /api/ — instead
    of the general error page; the connection is dropped, so the next request reconnects."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "database_unavailable", False):
            return response
        request_logger.error("%s %s: database unavailable", request.method, request.path)
        drop_broken_connections()
        message = gettext("数据库暂时无法连接（可能正在重启），请稍后再试。")
        if request.path.startswith("/api/"):
            unavailable = JsonResponse({"detail": message}, status=503)
        else:
            unavailable = HttpResponse(
                render_to_string("core/database_unavailable.html", {"message": message}),
                status=503,
            )
        unavailable["Retry-After"] = "30"
        return unavailable
