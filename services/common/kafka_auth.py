"""How a service proves who it is to Kafka: SASL/SCRAM with its own principal.

Each IMS service has a principal of its own on the broker, and the broker's ACLs
(``schemas.access``) let it write only the topics it owns. The password comes from the
settings as a secret (``IMS_KAFKA_PASSWORD``) and is never logged. Without a user name the
service connects without authentication (a broker that allows it: old local stacks).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any, Literal

import faust
from faust.types.auth import SASLMechanism

Mechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256"]
Protocol = Literal["SASL_PLAINTEXT", "SASL_SSL"]


@dataclass(frozen=True)
class KafkaCredentials:
    username: str
    password: str = field(repr=False)
    mechanism: Mechanism = "SCRAM-SHA-512"
    protocol: Protocol = "SASL_PLAINTEXT"  # SASL_SSL beyond loopback

    def _ssl_context(self) -> ssl.SSLContext | None:
        return ssl.create_default_context() if self.protocol == "SASL_SSL" else None

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments of aiokafka's producers, consumers and admin clients."""
        return {
            "security_protocol": self.protocol,
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
            "ssl_context": self._ssl_context(),
        }

    def faust(self) -> faust.SASLCredentials:
        """faust's ``broker_credentials``."""
        return faust.SASLCredentials(
            username=self.username,
            password=self.password,
            mechanism=SASLMechanism(self.mechanism),
            ssl_context=self._ssl_context(),
        )


def client_options(credentials: KafkaCredentials | None) -> dict[str, Any]:
    """aiokafka keyword arguments: none for an unauthenticated broker."""
    return credentials.aiokafka() if credentials else {}
