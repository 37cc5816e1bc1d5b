"""Settings that would break a guarantee stop the service at startup, naming the variable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from schemas.topics import REDELIVERY_WINDOW
from services.common.settings import INBOX_MARGIN, ServiceSettings

REQUIRED = {"kafka_bootstrap": "127.0.0.1:9092", "database_url": "postgresql://u@h/d"}


def test_the_default_inbox_outlives_every_redelivery_with_a_margin() -> None:
    settings = ServiceSettings(**REQUIRED)  # type: ignore[arg-type]
    assert timedelta(days=settings.inbox_retention_days) >= REDELIVERY_WINDOW + INBOX_MARGIN


@pytest.mark.parametrize("days", [7, 8, 8.5])
def test_an_inbox_that_forgets_before_a_record_expires_is_refused(days: float) -> None:
    """A topic record stays readable for retention (7 d) plus its segment (1 d): an inbox
    pruned earlier would let a replay from "earliest" apply an old event again."""
    with pytest.raises(ValidationError, match="IMS_INBOX_RETENTION_DAYS must be at least"):
        ServiceSettings(**REQUIRED, inbox_retention_days=days)  # type: ignore[arg-type]


def test_an_http_port_needs_the_issuers_keys() -> None:
    with pytest.raises(ValidationError, match="IMS_AUTH_JWKS and IMS_AUTH_ISSUER"):
        ServiceSettings(**REQUIRED, http_port=8081)  # type: ignore[arg-type]


def test_the_shared_secret_is_only_for_the_named_demo_mode() -> None:
    """A secret alone verifies nothing: HS256 needs IMS_AUTH_MODE=demo-hs256, said aloud."""
    with pytest.raises(ValidationError, match="IMS_AUTH_JWKS"):
        ServiceSettings(**REQUIRED, http_port=8081, auth_secret="s" * 32)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="demo-hs256 needs IMS_AUTH_SECRET"):
        ServiceSettings(**REQUIRED, http_port=8081, auth_mode="demo-hs256")  # type: ignore[arg-type]


def test_http_helper_processes_need_a_port_to_share() -> None:
    with pytest.raises(ValidationError, match="IMS_HTTP_PROCESSES above 1 needs an IMS_HTTP_PORT"):
        ServiceSettings(**REQUIRED, http_processes=2)  # type: ignore[arg-type]
    shared = ServiceSettings(
        **REQUIRED,  # type: ignore[arg-type]
        http_port=8081,
        http_processes=2,
        auth_jwks="/etc/ims/jwks.json",
        auth_issuer="https://iam.example",
    )
    assert shared.http_processes == 2


def test_a_kafka_principal_is_handed_to_every_client_and_its_password_never_shown() -> None:
    settings = ServiceSettings(
        **REQUIRED,  # type: ignore[arg-type]
        kafka_username="catalog",
        kafka_password="s3cret-scram",
    )
    credentials = settings.kafka_credentials()
    assert credentials is not None
    options = credentials.aiokafka()
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "catalog"
    assert options["sasl_plain_password"] == "s3cret-scram"
    assert credentials.faust().username == "catalog"
    for shown in (repr(settings), str(settings.model_dump()), repr(credentials)):
        assert "s3cret-scram" not in shown


def test_no_principal_means_no_authentication() -> None:
    assert ServiceSettings(**REQUIRED).kafka_credentials() is None  # type: ignore[arg-type]


def test_a_kafka_user_needs_its_password() -> None:
    with pytest.raises(ValidationError, match="IMS_KAFKA_USERNAME and IMS_KAFKA_PASSWORD"):
        ServiceSettings(**REQUIRED, kafka_username="catalog")  # type: ignore[arg-type]
