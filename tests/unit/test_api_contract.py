"""What schemathesis found (issue 16), kept fixed: each API's OpenAPI documents every error
it answers as a problem document, says which bodies it accepts, and a 405 names every
method of its path; control characters in an account name are refused at the model."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from services.capture.api import install_routes as capture_routes
from services.catalog.api import install_routes as catalog_routes
from services.catalog.api.admin import PublicImageBody
from services.catalog.domain.rules import DESCRIPTION_PATTERN, NAME_PATTERN, check_name
from services.common.http import PROBLEM_JSON, create_http_app
from services.notifier.api import install_routes as notifier_routes
from services.sharing.api import install_routes as sharing_routes
from services.sharing.api.views import AccountRef, AnswerRequest


class _NoStore:
    """Routes are only declared here: nothing reaches a store (nor the notifier's
    prompt hub, which would listen on the pool only when a stream opens)."""

    pool = None

    def clock(self) -> None:
        raise AssertionError("no request should reach the store")


async def _healthy() -> bool:
    return True


def _sharing(app: FastAPI, uow: Any) -> None:
    sharing_routes(app, uow, region=None)


INSTALLS: dict[str, Callable[[FastAPI, Any], None]] = {
    "catalog": catalog_routes,
    "capture": capture_routes,
    "sharing": _sharing,
    "notifier": notifier_routes,
}


def app_of(service: str) -> FastAPI:
    app = create_http_app(service, _healthy)
    INSTALLS[service](app, _NoStore())
    return app


def operations(service: str) -> list[tuple[str, str, dict[str, Any]]]:
    schema = app_of(service).openapi()
    return [
        (method.upper(), path, operation)
        for path, ops in schema["paths"].items()
        for method, operation in ops.items()
    ]


@pytest.mark.parametrize("service", INSTALLS)
def test_every_operation_documents_its_errors_as_problem_documents(service: str) -> None:
    found = operations(service)
    assert found
    for method, path, operation in found:
        responses = operation["responses"]
        # Every route takes a token (401) and input or none (422 when any), and may fail.
        assert {"400", "401", "500"} <= set(responses), (method, path)
        if operation.get("parameters") or "requestBody" in operation:
            assert "422" in responses, (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                content = response["content"]
                assert list(content) == [PROBLEM_JSON], (method, path, status)
                ref = content[PROBLEM_JSON]["schema"]["$ref"]
                assert ref == "#/components/schemas/ProblemDocument"


@pytest.mark.parametrize("service", INSTALLS)
def test_the_problem_schema_is_in_the_components(service: str) -> None:
    components = app_of(service).openapi()["components"]["schemas"]
    assert set(components["ProblemDocument"]["required"]) >= {"type", "title", "status", "code"}
    assert "HTTPValidationError" not in components  # FastAPI's 422 shape is never answered


def test_admin_reads_document_403() -> None:
    quota = dict(((m, p), o) for m, p, o in operations("catalog"))[
        ("GET", "/v1/accounts/{account_id}/quota")
    ]
    assert "403" in quota["responses"]


def test_a_405_names_every_method_of_its_path() -> None:
    client = TestClient(app_of("catalog"), raise_server_exceptions=False)
    answer = client.put("/v1/images/00000000-0000-0000-0000-000000000001")
    assert answer.status_code == 405
    assert answer.headers["content-type"] == PROBLEM_JSON
    allowed = {m.strip() for m in answer.headers["allow"].split(",")}
    assert {"GET", "PATCH", "DELETE"} <= allowed
    assert "PUT" not in allowed
    answer = client.patch("/v1/images/delete")  # a literal path beside /v1/images/{image_id}
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    answer = TestClient(app_of("sharing")).put("/v1/images/x/members")
    assert {m.strip() for m in answer.headers["allow"].split(",")} >= {"GET", "POST", "DELETE"}


@pytest.mark.parametrize("name", ["bad\x00name", "tab\tname", "bell\x07", "del\x7f"])
def test_an_account_name_with_a_control_character_is_refused_at_the_model(name: str) -> None:
    with pytest.raises(ValidationError):
        AccountRef(name=name)
    with pytest.raises(ValidationError):
        AccountRef(name="ok", project=name)


@pytest.mark.parametrize("field", ["distro", "version"])
def test_a_public_image_os_with_a_control_character_is_refused_at_the_model(field: str) -> None:
    os = {"family": "linux", "distro": "Ubuntu", "version": "22.04", field: "x\x00"}
    with pytest.raises(ValidationError):
        PublicImageBody.model_validate(
            {"name": "n", "os": os, "system_disk_gb": 40, "min_memory_mb": 1024}
        )


def test_an_account_name_of_printable_text_is_taken() -> None:
    assert AccountRef(name="租户 A-1.b", project="项目").name == "租户 A-1.b"


def test_the_answer_body_says_one_of_chosen_images_or_all() -> None:
    schema = AnswerRequest.model_json_schema()
    assert len(schema["oneOf"]) == 2
    # ... and the model holds to it: both, or neither, is refused.
    with pytest.raises(ValidationError):
        AnswerRequest.model_validate({"image_ids": ["00000000-0000-0000-0000-000000000001"],
                                      "all": True})  # fmt: skip
    with pytest.raises(ValidationError):
        AnswerRequest.model_validate({})
    assert AnswerRequest.model_validate({"all": True}).all


@pytest.mark.parametrize(
    "name", ["web-golden", "镜像 1", "a", "x" * 128, "", " lead", "a<b", "a\x00"]
)
def test_the_documented_name_pattern_is_the_rule_the_domain_applies(name: str) -> None:
    documented = re.fullmatch(NAME_PATTERN.strip("^$"), name) is not None and len(name) <= 128
    try:
        check_name(name)
        refused = False
    except Exception:
        refused = True
    assert documented is not refused


def test_the_catalog_documents_the_name_and_description_rules() -> None:
    schema = app_of("catalog").openapi()["components"]["schemas"]
    body = schema["CreateImageBody"]["properties"]
    assert body["name"]["pattern"] == NAME_PATTERN
    assert body["name"]["maxLength"] == 128
    assert body["description"]["pattern"] == DESCRIPTION_PATTERN


def test_the_read_after_header_is_documented_where_it_is_answered() -> None:
    """Sharing's writes answer IMS-Read-After with a token; the catalog's reads that take
    one answer how the wait ended: both say so in their OpenAPI (2xx answers)."""

    def answering(service: str) -> set[tuple[str, str]]:
        return {
            (method, path)
            for path, operations in app_of(service).openapi()["paths"].items()
            for method, operation in operations.items()
            for status, response in operation["responses"].items()
            if status.startswith("2") and "IMS-Read-After" in response.get("headers", {})
        }

    assert answering("sharing") == {
        ("post", "/v1/images/{image_id}/members"),
        ("post", "/v1/shares"),
        ("delete", "/v1/images/{image_id}/members/{account_id}"),
        ("delete", "/v1/images/{image_id}/members"),
        ("post", "/v1/shared-images/accept"),
        ("post", "/v1/shared-images/reject"),
    }
    assert answering("catalog") == {
        ("get", "/v1/images"),
        ("get", "/v1/images/{image_id}"),
        ("post", "/v1/launch-checks"),
    }
