"""The demo's tokens file: made in a state dir that has no `demo/` yet, owner-only, and
made again on a second run (the quick start's first command failed on a clean clone)."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path
from uuid import uuid4

from deploy.stack.demo import demo_id, write_tokens
from deploy.stack.state import StackState
from services.common.tokens import JwksVerifier


def _env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_tokens_file_is_created_in_a_fresh_state_dir(tmp_path: Path) -> None:
    state = StackState(state_dir=str(tmp_path / "fresh"))
    image_id = uuid4()

    path = write_tokens(state, image_id)

    assert path == tmp_path / "fresh" / "demo" / "tokens.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = _env(path)
    assert set(values) == {"ALICE_TOKEN", "BOB_TOKEN", "DEMO_IMAGE_ID"}
    assert values["DEMO_IMAGE_ID"] == str(image_id)
    verifier = JwksVerifier(str(state.jwks_path), state.issuer().issuer)
    alice = asyncio.run(verifier.verify(values["ALICE_TOKEN"]))
    bob = asyncio.run(verifier.verify(values["BOB_TOKEN"]))
    assert (alice.account_id, alice.account_name) == (demo_id("account:alice"), "alice")
    assert (bob.account_id, bob.account_name) == (demo_id("account:bob"), "bob")


def test_a_second_run_replaces_the_tokens_file(tmp_path: Path) -> None:
    state = StackState(state_dir=str(tmp_path))
    first = _env(write_tokens(state, uuid4()))
    second_id = uuid4()

    path = write_tokens(state, second_id)

    assert _env(path)["DEMO_IMAGE_ID"] == str(second_id) != first["DEMO_IMAGE_ID"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["tokens.env"]
