"""ims_testkit speaks the services' language without their code: its tokens pass the
services' verification, its records pass their decoder, and the wheel's contract imports
only itself."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import zipfile
from pathlib import Path
from uuid import uuid4

import pytest

from deploy.containers.base import host_mirrors, sources_list
from deploy.containers.testkit_wheel import build_testkit_wheel, vendored
from ims_testkit import Images, Issuer, cloudevent
from schemas.events import CaptureRequested
from services.common.codec import decode
from services.common.tokens import JwksVerifier


def test_a_minted_token_is_one_the_services_accept(tmp_path: Path) -> None:
    issuer, account = Issuer.generate(), uuid4()
    issuer.write_jwks(tmp_path / "jwks.json")
    verifier = JwksVerifier(str(tmp_path / "jwks.json"), issuer.issuer)
    tenant = asyncio.run(verifier.verify(issuer.token(account, "acme", roles=("admin",))))
    assert tenant.account_id == account
    assert tenant.account_name == "acme"
    assert tenant.is_admin


def test_a_cloudevent_is_one_the_services_decode() -> None:
    account, host, image = uuid4(), uuid4(), uuid4()
    data = CaptureRequested(image_id=image, account_id=account, host_id=host, name="golden")
    event_id = uuid4()

    envelope = decode(cloudevent(data, subject=image, tenant=account, event_id=event_id))

    assert envelope.id == event_id
    assert envelope.type == "ims.CaptureRequested.v1"
    assert envelope.subject == str(image)
    assert envelope.tenant == str(account)
    assert envelope.sequence == 1
    assert envelope.data == data


def test_images_from_env_need_the_ims_image_and_default_to_upstream_infra() -> None:
    with pytest.raises(LookupError, match="IMS_TESTKIT_IMS_IMAGE"):
        Images.from_env({})
    images = Images.from_env({"IMS_TESTKIT_IMS_IMAGE": "registry.example/ims:1"})
    assert (images.kafka, images.postgres) == ("apache/kafka:4.1.1", "postgres:15")


def test_the_contract_is_rewritten_to_import_itself() -> None:
    source = "from schemas.envelope import X\nimport schemas.topics\nfrom schemasx import Y\n"
    assert vendored(source) == (
        "from ims_testkit.schemas.envelope import X\n"
        "import ims_testkit.schemas.topics\n"
        "from schemasx import Y\n"
    )


def test_the_wheel_has_no_top_level_package_but_ims_testkit(tmp_path: Path) -> None:
    wheel = build_testkit_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        events = archive.read("ims_testkit/schemas/events.py").decode()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"ims_testkit"}
    assert "ims_testkit/schemas/json/ImageReady.v1.schema.json" in names
    assert "from schemas" not in events


def test_the_local_base_uses_the_mirror_apt_uses(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\n\n"
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n"
    )
    mirror, security = host_mirrors(tmp_path)
    assert (mirror, security) == (
        "http://mirror.example/debian",
        "http://mirror.example/debian-security",
    )
    assert "deb http://mirror.example/debian-security bookworm-security main" in sources_list(
        mirror, security
    )


def test_the_ims_images_commands_need_none_of_the_testkits_dependencies() -> None:
    """The IMS image installs IMS without test tools: `ims-stack provision` and the
    services must import with testcontainers absent (provisioning exited 1 when not)."""
    code = (
        "import sys; sys.modules['testcontainers'] = None\n"
        "import deploy.stack.cli, deploy.stack.provision\n"
        "import services.capture.service, services.catalog.service\n"
        "import services.sharing.service, services.notifier.service\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
