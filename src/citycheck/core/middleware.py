import logging
import time
import uuid

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from .context import acting

request_logger = logging.getLogger("citycheck.request")


def _incoming_id(request):
    """The proxy's X-Request-ID when it is a UUID (so its log lines and ours match)."""
    try:
        return uuid.UUID(request.headers.get("X-Request-ID", ""))
    except ValueError:
        return uuid.uuid4()


class RequestIdMiddleware:
    """Give every request an id, make its user the actor of the changes it causes, and log
    one line per request (method, path, status, duration, user) under that id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = _incoming_id(request)
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
        back = request.headers.get("Referer", "")
        if back and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(back)
        return redirect("home")
