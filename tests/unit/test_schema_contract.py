"""The published contract (schemas/json, schemas/asyncapi.yaml) matches the models.

Breaking changes are checked before drift: regenerating the files must never be the way a
breaking change gets in. Every event version is compared with its released baseline
(schemas/released, written once per version) and with the committed file on disk.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import yaml
from jsonschema import Draft202012Validator

from schemas import compat, generate
from schemas.envelope import Envelope
from schemas.events import EVENT_TYPES, Event, ImageReady
from schemas.topics import TOPICS

ROOT = generate.ROOT
GENERATED = generate.generate()
IDS = [m.event_type() for m in EVENT_TYPES]

# --- the committed contract -------------------------------------------------------------


def contract_problems(root: Path, files: dict[str, str], model: type[Event]) -> list[str]:
    """Why the generated ``files`` may not be committed in ``root`` for ``model``."""
    path = generate.schema_file(model)
    if path in generate.unreleased(root, files):
        return [f"no released baseline schemas/{generate.released_path(path)}"]
    return generate.breaking_in_files(root, {path: files[path]}).get(path, [])


@pytest.mark.parametrize("model", EVENT_TYPES, ids=IDS)
def test_no_breaking_change_without_a_new_version(model: type[Event]) -> None:
    problems = contract_problems(ROOT, GENERATED, model)
    assert not problems, (
        f"{model.event_type()} breaks readers or writers of its released contract: "
        f"{'; '.join(problems)}. Do not edit a released version: bump VERSION of "
        f"{model.__name__} (a new type ims.{model.NAME}.v{model.VERSION + 1}) and release "
        "it (schemas/README.md)."
    )


def released_copy(root: Path) -> None:
    """The repository's contract, as committed and released, in ``root``."""
    for directory in (generate.JSON_DIR, generate.RELEASED_DIR):
        shutil.copytree(ROOT / directory, root / directory)
    shutil.copy(ROOT / generate.ASYNCAPI_FILE, root / generate.ASYNCAPI_FILE)


def test_a_breaking_change_committed_with_its_regenerated_files_fails(tmp_path: Path) -> None:
    released_copy(tmp_path)
    assert contract_problems(tmp_path, GENERATED, ImageReady) == []
    # ImageReady v1 loses a required field and changes a field's type, without a new
    # version, and is committed together with its regenerated files.
    path = generate.schema_file(ImageReady)
    changed = json.loads(GENERATED[path])
    data = changed["$defs"][ImageReady.__name__]
    del data["properties"]["checksum_sha256"]
    data["required"].remove("checksum_sha256")
    data["properties"]["size_bytes"] = {"type": "string"}
    files = {**GENERATED, path: generate.render_json(changed)}
    generate.write(tmp_path, files)
    assert generate.outdated(tmp_path, files) == []  # no drift
    committed = json.loads((tmp_path / path).read_text("utf-8"))
    assert compat.breaking_changes(committed, changed) == []  # nothing new against itself
    problems = contract_problems(tmp_path, files, ImageReady)
    assert any("checksum_sha256" in p and "released" in p for p in problems), problems
    assert any("size_bytes" in p and "released" in p for p in problems), problems


def test_a_version_without_its_released_baseline_fails(tmp_path: Path) -> None:
    released_copy(tmp_path)
    (tmp_path / generate.released_path(generate.schema_file(ImageReady))).unlink()
    assert contract_problems(tmp_path, GENERATED, ImageReady) == [
        "no released baseline schemas/released/ImageReady.v1.schema.json"
    ]
    assert generate.main(["--check"], root=tmp_path) == 1
    assert generate.main(["--release"], root=tmp_path) == 0
    assert contract_problems(tmp_path, GENERATED, ImageReady) == []


def test_release_keeps_a_baseline_once_and_never_rewrites_it(tmp_path: Path) -> None:
    assert generate.main(["--release"], root=tmp_path) == 0
    released_names = sorted(p.name for p in (tmp_path / generate.RELEASED_DIR).iterdir())
    assert released_names == sorted(generate.schema_file(m).split("/")[1] for m in EVENT_TYPES)
    path = tmp_path / generate.released_path(generate.schema_file(ImageReady))
    released = json.loads(path.read_text("utf-8"))
    released["description"] = "as it was released"
    path.write_text(generate.render_json(released))
    assert generate.main(["--release"], root=tmp_path) == 0
    assert json.loads(path.read_text("utf-8"))["description"] == "as it was released"


def test_allow_breaking_never_overrides_a_released_baseline(tmp_path: Path) -> None:
    released_copy(tmp_path)
    path = tmp_path / generate.released_path(generate.schema_file(ImageReady))
    released = json.loads(path.read_text("utf-8"))
    released["properties"]["legacy"] = {"type": "string"}
    path.write_text(generate.render_json(released))
    assert generate.main(["--allow-breaking"], root=tmp_path) == 2
    assert generate.main(["--check"], root=tmp_path) == 1


def test_committed_files_match_the_models() -> None:
    differ = generate.outdated(ROOT, GENERATED)
    assert not differ, f"schemas/ out of date: {differ}; run python -m schemas.generate"


def test_generation_is_deterministic() -> None:
    assert generate.generate() == GENERATED
    assert all(text.endswith("\n") and not text.endswith("\n\n") for text in GENERATED.values())


def test_check_and_write_on_a_copy(tmp_path: Path) -> None:
    assert generate.main(["--release"], root=tmp_path) == 0
    assert generate.main(["--check"], root=tmp_path) == 0
    (tmp_path / "json" / "Gone.v1.schema.json").write_text("{}\n")
    (tmp_path / generate.ASYNCAPI_FILE).write_text("changed\n")
    assert generate.outdated(tmp_path, GENERATED) == ["asyncapi.yaml", "json/Gone.v1.schema.json"]
    assert generate.main(["--check"], root=tmp_path) == 1
    assert generate.main([], root=tmp_path) == 0
    assert generate.outdated(tmp_path, GENERATED) == []


def test_write_refuses_a_breaking_change(tmp_path: Path) -> None:
    generate.main([], root=tmp_path)
    path = tmp_path / generate.schema_file(EVENT_TYPES[0])
    published = json.loads(path.read_text("utf-8"))
    published["properties"]["legacy"] = {"type": "string"}
    path.write_text(generate.render_json(published))
    assert generate.main([], root=tmp_path) == 2
    assert "legacy" in path.read_text("utf-8")
    assert generate.main(["--check"], root=tmp_path) == 1
    assert generate.main(["--allow-breaking"], root=tmp_path) == 0
    assert "legacy" not in path.read_text("utf-8")


# --- the JSON Schemas accept real events ------------------------------------------------

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
ID = UUID("0b9c2c1e-5f0e-4d0a-9a43-4c1f3e6f0a11")
OTHER = UUID("7d1a4f6e-2b3c-4e5d-8f90-a1b2c3d4e5f6")
OS = {"family": "linux", "distro": "Ubuntu", "version": "22.04"}
DISK = {"disk_id": ID, "path": "/pool/d1", "format": "qcow2", "size_gb": 40}

MEMBER = {
    "membership_id": OTHER, "image_id": ID, "image_name": "img", "owner_account_id": OTHER,
    "owner_account_name": "alice", "member_account_id": ID, "member_account_name": "bob",
}  # fmt: skip
SAMPLES: dict[str, dict[str, Any]] = {
    "HostChanged": {
        "host_id": ID, "account_id": OTHER, "name": "web-1", "os": OS, "state": "stopped",
        "memory_mb": 2048, "system_disk": DISK, "data_disks": [DISK],
    },
    "AccountChanged": {
        "account_id": ID, "name": "acme", "kind": "multi_project",
        "projects": [{"project_id": OTHER, "name": "prod", "region": "cn-east-1"}],
    },
    "CaptureRequested": {"image_id": ID, "account_id": OTHER, "host_id": ID, "name": "img"},
    "CaptureAccepted": {
        "image_id": ID, "account_id": OTHER, "host_id": ID, "name": "img", "requested_at": NOW,
    },
    "CaptureProgressed": {"image_id": ID, "account_id": OTHER, "percent": 40},
    "ImageReady": {
        "image_id": ID, "account_id": OTHER, "name": "img",
        "source": {"host_id": ID, "host_name": "web-1"}, "os": OS, "system_disk_gb": 40,
        "min_memory_mb": 1024, "disk_format": "qcow2", "size_bytes": 10, "virtual_size_bytes": 20,
        "checksum_sha256": "a" * 64, "location": "store://images/x", "finished_at": NOW,
        "preflight": {"status": "findings", "findings": [
            {"code": "static_ip", "path": "/etc/network/interfaces", "detail": "静态 IP"}]},
        "keeps_source_password": False,
    },
    "CaptureFailed": {
        "image_id": ID, "account_id": OTHER, "host_id": ID, "name": "img",
        "code": "preflight_refused", "reason": "预检发现问题", "failed_at": NOW,
        "preflight": {"status": "findings", "findings": [
            {"code": "fstab_data_disk", "path": "/etc/fstab", "detail": "数据盘"}]},
    },
    "CaptureRefused": {
        "image_id": ID, "account_id": OTHER, "host_id": ID, "name": "img",
        "code": "quota_exceeded", "reason": "私有镜像配额已用完", "reason_en": "quota",
        "quota_limit": 10, "quota_used": 10, "refused_at": NOW,
    },
    "ImageUpdated": {
        "image_id": ID, "account_id": OTHER, "name": "img", "description": "golden",
        "publish_status": "published", "updated_at": NOW,
    },
    "ImageDeleted": {"image_id": ID, "account_id": OTHER, "deleted_at": NOW},
    "PublicImageAdded": {
        "image_id": ID, "name": "Debian 12 64bit", "os": OS, "system_disk_gb": 40,
        "min_memory_mb": 1024, "added_at": NOW,
    },
    "PublicImageRetired": {"image_id": ID, "retired_at": NOW},
    "StorageUsageChanged": {
        "account_id": OTHER, "stored_bytes": 4096, "stored_images": 1, "image_id": ID,
        "delta_bytes": -1024, "changed_at": NOW,
    },
    "ShareOffered": {**MEMBER, "offered_at": NOW},
    "ShareAccepted": {**MEMBER, "member_project_id": OTHER, "member_project_name": "prod",
                      "accepted_at": NOW},
    "ShareRejected": {**MEMBER, "previous_status": "accepted", "rejected_at": NOW},
    "ShareRevoked": {
        **MEMBER, "cause": "sharing_cancelled", "previous_status": "pending", "revoked_at": NOW,
    },
    "OwnerNotified": {
        "notice_id": ID, "account_id": OTHER, "image_id": ID, "kind": "capture_failed",
        "text_zh": "失败", "text_en": "failed",
    },
    "SharePromptUpdated": {
        "prompt_id": ID, "account_id": OTHER, "status": "open", "pending_count": 1,
        "images": [{"membership_id": ID, "image_id": ID, "name": "img", "owner_account_id": ID,
                    "owner_account_name": "alice", "offered_at": NOW}],
        "title_zh": "是否接受镜像", "title_en": "Accept shared images?",
        "text_zh": "alice 向您共享了 1 个镜像", "text_en": "alice shared 1 image with you",
        "actions": [{"action": "accept_all", "label_zh": "全部接受", "label_en": "Accept all",
                     "method": "POST", "path": "/v1/shared-images/accept", "body": {"all": True}}],
        "updated_at": NOW,
    },
    "DeadLetter": {
        "consumer": "catalog", "topic": "ImageReady", "partition": 0, "offset": 7,
        "key_base64": "a2V5", "value_base64": None, "value_size": 0, "reason": "not JSON",
        "headers": [{"key": "trace", "value_base64": None}],
        "error_type": "InvalidEvent", "failed_at": NOW,
    },
}  # fmt: skip


def _sample(model: type[Event]) -> Envelope[Event]:
    envelope_type = Envelope[model]  # type: ignore[valid-type]
    sample: Envelope[Event] = envelope_type(
        source="/ims/test",
        type=model.event_type(),
        subject=str(ID),
        tenant=str(OTHER),
        sequence=1,
        correlationid=OTHER,
        data=model(**SAMPLES[model.NAME]),
    )
    return sample


def _validator(model: type[Event]) -> Draft202012Validator:
    return Draft202012Validator(
        json.loads(GENERATED[generate.schema_file(model)]),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def test_every_event_type_has_a_sample() -> None:
    assert sorted(SAMPLES) == sorted(m.NAME for m in EVENT_TYPES)


@pytest.mark.parametrize("model", EVENT_TYPES, ids=IDS)
def test_schema_is_valid_2020_12(model: type[Event]) -> None:
    schema = json.loads(GENERATED[generate.schema_file(model)])
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"{generate.BASE_URI}json/{model.NAME}.v{model.VERSION}.schema.json"
    assert schema["properties"]["type"]["const"] == model.event_type()
    assert {"id", "source", "specversion", "type", "data"} <= set(schema["required"])


@pytest.mark.parametrize("model", EVENT_TYPES, ids=IDS)
def test_schema_accepts_an_event_built_from_the_models(model: type[Event]) -> None:
    event = _sample(model).model_dump(mode="json")
    errors = [e.message for e in _validator(model).iter_errors(event)]
    assert errors == []


@pytest.mark.parametrize("model", EVENT_TYPES, ids=IDS)
def test_schema_accepts_the_wire_form_without_nulls(model: type[Event]) -> None:
    # services/common/codec.py encodes with exclude_none=True.
    event = _sample(model).model_dump(mode="json", exclude_none=True)
    errors = [e.message for e in _validator(model).iter_errors(event)]
    assert errors == []


@pytest.mark.parametrize("model", EVENT_TYPES, ids=IDS)
def test_schema_rejects_a_wrong_type_a_missing_id_and_a_bad_body(model: type[Event]) -> None:
    event = _sample(model).model_dump(mode="json")
    validator = _validator(model)
    assert not validator.is_valid({**event, "type": "ims.Other.v1"})
    assert not validator.is_valid({k: v for k, v in event.items() if k != "id"})
    assert not validator.is_valid({**event, "data": {}})


# --- the AsyncAPI document --------------------------------------------------------------


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        assert part in node, f"dangling $ref {ref}"
        node = node[part]
    return node


def test_asyncapi_is_the_committed_generated_document() -> None:
    text = (ROOT / generate.ASYNCAPI_FILE).read_text("utf-8")
    assert yaml.safe_load(text) == yaml.safe_load(GENERATED[generate.ASYNCAPI_FILE])


def test_asyncapi_structure_and_references() -> None:
    doc = yaml.safe_load(GENERATED[generate.ASYNCAPI_FILE])
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["title"] == "IMS events"
    assert doc["info"]["version"]
    assert doc["defaultContentType"] == "application/cloudevents+json"
    assert sorted(doc["channels"]) == sorted(t.name for t in TOPICS)
    for name, channel in doc["channels"].items():
        assert channel["address"] == name
        assert channel["messages"], name
        for ref in channel["messages"].values():
            message = _resolve(doc, ref["$ref"])
            payload = message["payload"]["$ref"]
            assert (ROOT / payload).is_file(), f"{payload} does not exist"
            assert json.loads((ROOT / payload).read_text("utf-8"))["title"] == message["name"]
            assert "key" in message["bindings"]["kafka"]
    for op_id, op in doc["operations"].items():
        assert op["action"] in ("send", "receive"), op_id
        channel = _resolve(doc, op["channel"]["$ref"])
        for ref in op["messages"]:
            assert ref["$ref"].startswith(op["channel"]["$ref"] + "/messages/"), op_id
            _resolve(doc, ref["$ref"])
        assert channel is not None


def test_asyncapi_has_every_event_type_and_who_sends_and_receives_it() -> None:
    doc = yaml.safe_load(GENERATED[generate.ASYNCAPI_FILE])
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert names == {m.event_type() for m in EVENT_TYPES}
    assert set(generate.CONSUMERS) == {t.name for t in TOPICS}
    ops = doc["operations"].values()
    for topic in TOPICS:
        channel = f"#/channels/{topic.name}"
        senders = [o for o in ops if o["channel"]["$ref"] == channel and o["action"] == "send"]
        readers = [o for o in ops if o["channel"]["$ref"] == channel and o["action"] == "receive"]
        assert len(senders) == 1, topic.name
        assert len(readers) == len(generate.CONSUMERS[topic.name]), topic.name
