"""The API does what its OpenAPI schema says: schemathesis generates requests for every
operation of /api/schema/ and sends them, as a provincial administrator with an API token,
through the WSGI application; no answer may be a 5xx, carry an undocumented status code or
content type, or break the documented response schema.

Bounded for CI: a few examples per operation with a fixed seed (derandomised), no
shrinking. The counts are printed (pytest -s) for the issue's note.
"""

import json
import time
from collections import Counter, defaultdict

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from citycheck.core.choices import Role

EXAMPLES_PER_OPERATION = 4
# Signing out revokes the token the run uses; tests/apps/security tests these two.
SIGNING_OUT = {"POST /api/auth/logout/", "POST /api/auth/logoutall/"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def served_schema(user) -> dict:
    client = Client()
    client.force_login(user)
    answer = client.get("/api/schema/", {"format": "json"})
    assert answer.status_code == 200
    return json.loads(answer.content)


# Objects that exist in the small province (ids start at 1 in the test database), so that
# detail operations are also reached, not only refused with 404.
KNOWN_PATH_VALUES = {"id": 1, "code": "360102"}


def fuzz(schema, headers, app):
    """Send every operation its examples — and, when its path names an object, as many
    again with an object that exists; returns requests per operation, failures per
    operation (one line each) and the status codes seen."""
    requests = Counter()
    failures = defaultdict(list)
    statuses = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in SIGNING_OUT:
            continue
        strategies = [operation.as_strategy(headers=headers)]
        names = [p.name for p in operation.path_parameters]
        if names and set(names) <= set(KNOWN_PATH_VALUES):
            known = {name: KNOWN_PATH_VALUES[name] for name in names}
            strategies.append(operation.as_strategy(headers=headers, path_parameters=known))
        for strategy in strategies:
            send_examples(strategy, operation.label, app, requests, failures, statuses)
    return requests, failures, statuses


def send_examples(strategy, label, app, requests, failures, statuses):
    @given(case=strategy)
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def send(case):
        response = case.call(app=app)
        requests[label] += 1
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # collect every failure, then report
            lines = str(exc).strip().splitlines()
            failures[label].append(f"{response.status_code} {' | '.join(lines[:12])}"[:1500])

    send()


@pytest.mark.django_db
def test_every_operation_answers_as_documented(small_province):
    admin = small_province.users[Role.PROVINCE_ADMIN]
    _, token = AuthToken.objects.create(admin)
    schema = schemathesis.openapi.from_dict(served_schema(admin))
    began = time.monotonic()
    requests, failures, statuses = fuzz(
        schema, {"Authorization": f"Token {token}"}, get_wsgi_application()
    )
    seconds = time.monotonic() - began
    server_errors = sum(count for code, count in statuses.items() if code >= 500)
    print(
        f"\nschemathesis: {len(requests)} operations, {sum(requests.values())} requests, "
        f"{server_errors} 5xx, {len(failures)} operations failing, {seconds:.1f} s; "
        f"statuses {dict(sorted(statuses.items()))}"
    )
    for label, lines in sorted(failures.items()):
        print(f"  {label}: {len(lines)} × {lines[0]}")
    assert len(requests) >= 40
    assert not failures, "\n".join(f"{label}: {lines[0]}" for label, lines in failures.items())
