"""Who may talk to the broker: SCRAM users for every principal, ACLs from the catalogue.

Passwords derive from the admin's (HMAC, like the database roles' in provision.py), so every
process that knows the admin secret finds the same ones without a password store, and two
test sessions on one shared broker never overwrite each other's users. A file
``<state dir>/secrets/kafka-<name>`` overrides one principal's password (rotation, see
docs/operations.md).

aiokafka 0.12's admin client has no ACL nor SCRAM API: confluent-kafka's AdminClient does
both (it is a blocking client: the async callers run it in a thread).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)

from deploy.stack.keys import ensure_secret, secret_file
from deploy.stack.process import StackError
from deploy.stack.topics import delete_topics, ensure_topics
from schemas.access import Acl, acls
from schemas.generate import CONSUMERS
from schemas.topics import PRINCIPALS
from services.common.kafka_auth import KafkaCredentials, Mechanism

ADMIN = "admin"  # the broker's super user: provisioning, tests, operators' tooling
MECHANISM: Mechanism = "SCRAM-SHA-512"
SCRAM_ITERATIONS = 8192  # Kafka's StorageTool default
USERS: tuple[str, ...] = (ADMIN, *PRINCIPALS)


def derived_password(admin_password: str, principal: str) -> str:
    if principal == ADMIN:
        return admin_password
    return hmac.new(
        admin_password.encode(), f"ims-kafka:{principal}".encode(), hashlib.sha256
    ).hexdigest()


def passwords(admin_password: str, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every user's password: derived from the admin's unless overridden."""
    found = {name: derived_password(admin_password, name) for name in USERS}
    return found | dict(overrides or {})


def stack_passwords(state_dir: Path) -> dict[str, str]:
    """The local stack's passwords: the admin's made on first use (owner-only file)."""
    admin = ensure_secret(state_dir, f"kafka-{ADMIN}")
    overrides = {
        name: path.read_text().strip()
        for name in PRINCIPALS
        if (path := secret_file(state_dir, f"kafka-{name}")).exists()
    }
    return passwords(admin, overrides)


def credentials(secrets: Mapping[str, str], principal: str) -> KafkaCredentials:
    return KafkaCredentials(principal, secrets[principal], MECHANISM, "SASL_PLAINTEXT")


def librdkafka_config(bootstrap: str, creds: KafkaCredentials | None) -> dict[str, str]:
    """librdkafka's properties (confluent-kafka, kcat -F) for ``creds``."""
    config = {"bootstrap.servers": bootstrap}
    if creds is not None:
        config |= {
            "security.protocol": creds.protocol,
            "sasl.mechanisms": creds.mechanism,
            "sasl.username": creds.username,
            "sasl.password": creds.password,
        }
    return config


def properties_text(config: Mapping[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in config.items())


def scram_format_arguments(secrets: Mapping[str, str]) -> list[str]:
    """StorageTool's --add-scram arguments: every user exists from the first start."""
    args: list[str] = []
    for name in USERS if secrets else ():
        args += ["--add-scram", f"{MECHANISM}=[name={name},password={secrets[name]}]"]
    return args


# -- the broker, through confluent-kafka's AdminClient ----------------------------------------


def _admin(bootstrap: str, admin: KafkaCredentials | None) -> AdminClient:
    config: dict[str, str | int | float | bool] = {**librdkafka_config(bootstrap, admin)}
    return AdminClient(config | {"socket.timeout.ms": 30000})


def _wait_all(futures: Mapping[Any, Any], what: str, timeout_s: float) -> None:
    failed = []
    for key, future in futures.items():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:
            failed.append(f"{key}: {exc.args[0]}")
    if failed:
        raise StackError(f"{what}:\n" + "\n".join(failed))


def upsert_users(
    bootstrap: str,
    admin: KafkaCredentials,
    secrets: Mapping[str, str],
    names: Iterable[str] = PRINCIPALS,
    timeout_s: float = 30.0,
) -> None:
    """Create or reset the SCRAM credentials of ``names`` (a new principal, a rotation).
    Connected clients stay connected; the next login needs the new password."""
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
    upserts: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(n, info, secrets[n].encode()) for n in names
    ]
    client = _admin(bootstrap, admin)  # held: dropping it cancels the futures
    futures = client.alter_user_scram_credentials(upserts)
    _wait_all(futures, "could not set the Kafka users' credentials", timeout_s)


_TYPES = {"TOPIC": ResourceType.TOPIC, "GROUP": ResourceType.GROUP}
_PATTERNS = {"LITERAL": ResourcePatternType.LITERAL, "PREFIXED": ResourcePatternType.PREFIXED}
_OPS = {"READ": AclOperation.READ, "WRITE": AclOperation.WRITE}


def _binding(acl: Acl) -> AclBinding:
    return AclBinding(
        _TYPES[acl.resource_type],
        acl.resource_name,
        _PATTERNS[acl.pattern],
        f"User:{acl.principal}",
        "*",
        _OPS[acl.operation],
        AclPermissionType.ALLOW,
    )


def _name(value: object) -> str:
    """An enum member's name (the stubs also allow the raw str/int forms)."""
    return str(getattr(value, "name", value))


def _acl(binding: AclBinding) -> Acl | None:
    """The catalogue's form of a broker binding; None for one it cannot express."""
    kind, op = _name(binding.restype), _name(binding.operation)
    pattern, permission = _name(binding.resource_pattern_type), _name(binding.permission_type)
    if (
        kind not in _TYPES
        or op not in _OPS
        or pattern not in _PATTERNS
        or permission != "ALLOW"
        or binding.host != "*"
        or not binding.principal.startswith("User:")
    ):
        return None
    principal = binding.principal.removeprefix("User:")
    return Acl(principal, cast(Any, kind), binding.name, cast(Any, op), cast(Any, pattern))


def _verbatim(binding: AclBinding) -> Acl:
    """A binding the catalogue cannot express (DENY, a host, ALL...), spelt out so that it
    shows in a comparison with the catalogue instead of vanishing."""
    operation = f"{_name(binding.permission_type)} {_name(binding.operation)}@{binding.host}"
    return Acl(
        binding.principal,
        cast(Any, _name(binding.restype)),
        binding.name,
        cast(Any, operation),
        cast(Any, _name(binding.resource_pattern_type)),
    )


def broker_bindings(
    bootstrap: str, admin: KafkaCredentials | None, timeout_s: float = 30.0
) -> list[AclBinding]:
    """Every binding the broker holds (any resource, principal, operation)."""
    anything = cast(str, None)  # the filter's wildcard (the stubs want a str)
    match_all = AclBindingFilter(
        ResourceType.ANY,
        anything,
        ResourcePatternType.ANY,
        anything,
        anything,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    client = _admin(bootstrap, admin)
    try:
        found: list[AclBinding] = client.describe_acls(match_all).result(timeout=timeout_s)
    except KafkaException as exc:
        raise StackError(f"could not read the broker's ACLs: {exc.args[0]}") from exc
    return found


def broker_acls(
    bootstrap: str, admin: KafkaCredentials | None, resources: set[str] | None = None
) -> list[Acl]:
    """The broker's bindings (on ``resources`` only, if given) in the catalogue's form; one
    it cannot express comes back as an Acl with operation and pattern as the broker says."""
    found: list[Acl] = []
    for binding in broker_bindings(bootstrap, admin):
        if resources is not None and binding.name not in resources:
            continue
        found.append(_acl(binding) or _verbatim(binding))
    return sorted(found)


def apply_acls(
    bootstrap: str, admin: KafkaCredentials, wanted: Iterable[Acl], timeout_s: float = 30.0
) -> tuple[list[Acl], list[Acl]]:
    """Make the broker's bindings on the catalogue's resources exactly ``wanted``: add the
    missing ones, delete any other binding on those resources (a grant someone added by
    hand to ShareAccepted goes). Bindings on other resources (another prefix, another
    team's topics) are left alone. Idempotent; returns (added, removed)."""
    target = set(wanted)
    resources = {acl.resource_name for acl in target}
    client = _admin(bootstrap, admin)
    present = [b for b in broker_bindings(bootstrap, admin) if b.name in resources]
    as_acl = {b: _acl(b) for b in present}
    stale = [b for b, acl in as_acl.items() if acl not in target]
    missing = sorted(target - {acl for acl in as_acl.values() if acl is not None})
    if missing:
        futures = client.create_acls([_binding(acl) for acl in missing])
        _wait_all(futures, "could not create ACLs", timeout_s)
    if stale:
        filters = [_exactly(b) for b in stale]
        _wait_all(client.delete_acls(filters), "could not delete stale ACLs", timeout_s)
    _wait_effective(bootstrap, admin, target, resources, timeout_s)
    return missing, sorted(acl for b in stale if (acl := as_acl[b]) is not None)


def _exactly(binding: AclBinding) -> AclBindingFilter:
    """A filter that matches this one binding and no other."""
    b = binding
    return AclBindingFilter(
        b.restype, b.name, b.resource_pattern_type, b.principal, b.host, b.operation,
        b.permission_type,
    )  # fmt: skip


def _wait_effective(
    bootstrap: str,
    admin: KafkaCredentials,
    target: set[Acl],
    resources: set[str],
    timeout_s: float,
) -> None:
    """CreateAcls answers once the change is committed; the broker's authorizer applies it
    a moment later (a DescribeAcls right after saw none of 105). Return once it has, so
    a service started next is not refused."""
    deadline = time.monotonic() + timeout_s
    while set(broker_acls(bootstrap, admin, resources)) != target:
        if time.monotonic() > deadline:
            raise StackError(f"the broker's ACLs did not match the catalogue in {timeout_s:.0f}s")
        time.sleep(0.2)


def delete_acls(
    bootstrap: str, admin: KafkaCredentials, acls: Iterable[Acl], timeout_s: float = 30.0
) -> None:
    """Remove these bindings (test teardown of a prefix on a shared broker)."""
    filters = [_exactly(_binding(acl)) for acl in acls]
    if filters:
        client = _admin(bootstrap, admin)
        _wait_all(client.delete_acls(filters), "could not delete ACLs", timeout_s)


async def provision_kafka(
    bootstrap: str,
    secrets: Mapping[str, str] | None,
    prefix: str = "",
    replication_factor: int = 1,
) -> list[str]:
    """Users, topics, then ACLs, as the admin: what every deployment does on a broker.
    Without ``secrets`` (an unauthenticated broker: the benchmark's "off") topics only."""
    admin = credentials(secrets, ADMIN) if secrets else None
    if admin is not None and secrets is not None:
        await asyncio.to_thread(upsert_users, bootstrap, admin, secrets)
    names = await ensure_topics(bootstrap, prefix, replication_factor, credentials=admin)
    if admin is not None:
        await asyncio.to_thread(apply_acls, bootstrap, admin, acls(CONSUMERS, prefix))
    return names


async def unprovision_kafka(bootstrap: str, secrets: Mapping[str, str] | None, prefix: str) -> None:
    """A prefix's topics and ACLs gone (test teardown on a shared broker); users stay."""
    admin = credentials(secrets, ADMIN) if secrets else None
    await delete_topics(bootstrap, prefix, credentials=admin)
    if admin is not None:
        await asyncio.to_thread(delete_acls, bootstrap, admin, acls(CONSUMERS, prefix))
