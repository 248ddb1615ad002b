"""Property-based fuzzing of the whole API surface from its own schemas (schemathesis), against
a real `qrmint serve`: REST from /openapi.json, GraphQL from its introspection. Whatever the
documents describe is fuzzed; nothing here names an operation.

The assertion: no 5xx, and every error in the contract's shape (REST `{"error": {"code",
"message"}}`, GraphQL `errors[].extensions.code`), and no traceback in the server's log.
`make test` runs a few hundred cases per operation, derandomized (the same cases each run);
`make fuzz` runs many more, randomly (QRMINT_FUZZ_EXAMPLES, QRMINT_FUZZ_RANDOM=1) and
prints the totals.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from graphql import get_introspection_query
from hypothesis import HealthCheck, Phase, given, settings

from tests.qrmint.serving import Served, unlimited

# Per operation. GraphQL requests cost ~3x a REST call to generate and to serve: fewer of
# them in `make test`; QRMINT_FUZZ_EXAMPLES sets both (make fuzz: 600).
REST_EXAMPLES = int(os.environ.get("QRMINT_FUZZ_EXAMPLES", "200"))
GRAPHQL_EXAMPLES = int(os.environ.get("QRMINT_FUZZ_EXAMPLES", "120"))
FUZZ_RANDOM = os.environ.get("QRMINT_FUZZ_RANDOM") == "1"
Check = Callable[[requests.Response], str | None]


@dataclass
class Tally:
    cases: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.by_status.items() if status >= 500)

    def line(self, surface: str) -> str:
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.by_status.items()))
        return (
            f"fuzz {surface}: {self.cases} cases, {self.server_errors} server errors, "
            f"{len(self.problems)} problems ({statuses})"
        )


@dataclass
class Target:
    server: Served
    key: str
    session: requests.Session


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    server = unlimited(tmp_path_factory.mktemp("fuzz") / "var")
    server.start()
    session = requests.Session()
    try:
        yield Target(server, server.key("mega"), session)
    finally:
        session.close()
        server.stop()
    log = server.log.read_text()
    assert "Traceback" not in log, log[-3000:]


def _fuzz(
    operation: Any, target: Target, tally: Tally, check: Check, examples: int, path: str = ""
) -> None:
    headers = {"Authorization": f"Bearer {target.key}"}

    @settings(
        max_examples=examples,
        derandomize=not FUZZ_RANDOM,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def one(case: Any) -> None:
        response = case.call(
            base_url=target.server.api_url + path,
            session=target.session,
            headers=headers,
            timeout=60,
        )
        tally.cases += 1
        tally.by_status[response.status_code] = tally.by_status.get(response.status_code, 0) + 1
        problem = check(response)
        if problem is not None and len(tally.problems) < 50:
            tally.problems.append(f"{operation.label}: {problem}\n  {case.as_curl_command()}")

    one()


def _rest_check(response: requests.Response) -> str | None:
    if response.status_code >= 500:
        return f"{response.status_code} {response.text[:300]}"
    if response.status_code < 400:
        return None
    try:
        error = response.json()["error"]
        ok = isinstance(error["code"], str) and isinstance(error["message"], str)
    except (ValueError, KeyError, TypeError):
        ok = False
    return None if ok else f"{response.status_code} not in the error shape: {response.text[:300]}"


def _graphql_check(response: requests.Response) -> str | None:
    if response.status_code >= 500:
        return f"{response.status_code} {response.text[:300]}"
    try:
        body = response.json()
        errors = body.get("errors") or []
        ok = "data" in body and all(isinstance(e["extensions"]["code"], str) for e in errors)
        codes = {e["extensions"]["code"] for e in errors}
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"{response.status_code} not in the GraphQL shape: {response.text[:300]}"
    if not ok:
        return f"{response.status_code} an error without extensions.code: {response.text[:300]}"
    if "internal_error" in codes:
        return f"internal_error: {response.text[:300]}"
    return None


def _operation(result: Any) -> Any:
    """An operation the schema describes; one it cannot (InvalidSchema) fails the test."""
    return result.ok()


def _report(surface: str, tally: Tally) -> None:
    print(tally.line(surface))
    # The totals of a run, for `make fuzz` to sum up.
    with Path(os.environ.get("QRMINT_FUZZ_REPORT", os.devnull)).open("a") as out:
        out.write(f"{surface}\t{tally.cases}\t{tally.server_errors}\t{len(tally.problems)}\n")


def test_rest_from_openapi(target: Target) -> None:
    schema = schemathesis.openapi.from_url(target.server.api_url + "/openapi.json")
    tally = Tally()
    operations = [_operation(result) for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:
        _fuzz(operation, target, tally, _rest_check, REST_EXAMPLES)
    _report("rest", tally)
    assert tally.cases >= len(operations) * min(REST_EXAMPLES, 50)
    assert tally.server_errors == 0
    assert not tally.problems, "\n".join(tally.problems[:10])


def test_graphql_from_introspection(target: Target) -> None:
    introspection = httpx.post(
        target.server.api_url + "/graphql",
        json={"query": get_introspection_query()},
        headers={"Authorization": f"Bearer {target.key}"},
        timeout=30,
    ).json()
    schema = schemathesis.graphql.from_dict(introspection["data"])
    tally = Tally()
    operations = [_operation(result) for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        _fuzz(operation, target, tally, _graphql_check, GRAPHQL_EXAMPLES, path="/graphql")
    _report("graphql", tally)
    assert tally.server_errors == 0
    assert not tally.problems, "\n".join(tally.problems[:10])
