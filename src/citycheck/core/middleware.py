import uuid

from .context import acting


class RequestIdMiddleware:
    """Give every request an id and make its user the actor of the changes it causes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = uuid.uuid4()
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        with acting(actor, request.id):
            response = self.get_response(request)
        response["X-Request-ID"] = str(request.id)
        return response
