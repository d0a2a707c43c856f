"""The API schema states the errors every operation can answer, not only its success.

drf-spectacular documents the success of an operation; the refusals come from the same
few places for every view (DRF's authentication, permissions, throttles, 404 of objects
out of reach, validation). :class:`AutoSchema` adds them once, with the body DRF sends —
an object with ``detail`` or one list of messages per field — unless the view documents
that status itself.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework.permissions import AllowAny

ERROR_BODY = {
    "type": "object",
    "description": "`detail` for a refusal, or the messages of each refused field by name.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}


def _error(description: str) -> dict:
    return {"content": {"application/json": {"schema": ERROR_BODY}}, "description": description}


class AutoSchema(SpectacularAutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        protected = not all(
            isinstance(permission, AllowAny) for permission in self.view.get_permissions()
        )
        errors = {}
        if operation.get("parameters") or operation.get("requestBody"):
            errors["400"] = "The request names a field or parameter it may not have (named)."
        if protected:
            errors["401"] = "Not signed in, or the token or password is not accepted."
            errors["403"] = "The user's role or places do not allow this."
        if "{" in path or operation.get("requestBody") or self.method != "GET":
            errors["404"] = "No such object within the user's reach."
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            errors["409"] = "The data changed meanwhile, or the state does not allow this."
        errors["429"] = "Too many requests (rate limit), or too many jobs of the user running."
        for code, description in errors.items():
            responses.setdefault(code, _error(description))
        for code, response in responses.items():  # a view's own error without a body
            if code >= "400" and "content" not in response:
                response["content"] = _error("")["content"]
        return operation
