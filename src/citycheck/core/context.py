"""The acting user and request id of the current request or command, for the audit trail."""

import contextlib
import contextvars
import uuid

_actor = contextvars.ContextVar("citycheck_actor", default=None)
_request_id = contextvars.ContextVar("citycheck_request_id", default=None)


def current_actor():
    return _actor.get()


def current_request_id():
    return _request_id.get()


@contextlib.contextmanager
def acting(user, request_id=None):
    """Attribute the changes made inside the block to ``user``."""
    actor_token = _actor.set(user)
    request_token = _request_id.set(request_id or uuid.uuid4())
    try:
        yield
    finally:
        _actor.reset(actor_token)
        _request_id.reset(request_token)
