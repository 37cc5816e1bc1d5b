"""是否接受镜像, pushed: an open prompt stream (server-sent events, through the gateway)
shows an offer as it arrives and resolves when the offer is answered."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ims_testkit.tokens import Issuer
from tests.gateway_kit import running_gateway
from tests.harness import Bus, ServiceProcess, eventually
from tests.infra import TestStack
from tests.integration.sharing_kit import (
    announced_image,
    members_path,
    new_account,
    outcomes,
    sharing_knows,
)

# The product says "within a second"; asserted with room for 2 loaded cores, measured.
PUSH_BOUND_S = 5.0


class OpenStream:
    """One account's prompt stream, read in the background: (arrival, Prompts) per event."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.heartbeats = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> OpenStream:
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _read(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        timeout = httpx.Timeout(10, read=None)
        async with (
            httpx.AsyncClient(timeout=timeout) as client,
            client.stream("GET", self.url, headers=headers) as response,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            kind = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: ") and kind == "prompt":
                    self.events.append((time.monotonic(), json.loads(line[6:])))
                elif line.startswith(": heartbeat"):
                    self.heartbeats += 1

    def latest(self) -> dict[str, Any] | None:
        return self.events[-1][1] if self.events else None


def image_ids(prompts: dict[str, Any] | None) -> set[str]:
    if not prompts or not prompts["prompts"]:
        return set()
    return {i["image_id"] for i in prompts["prompts"][0]["images"]}


async def test_an_offer_shows_on_an_open_stream_and_an_answer_resolves_it(
    system: dict[str, ServiceProcess],
    bus: Bus,
    stack: TestStack,
    issuer: Issuer,
    tmp_path: Path,
    record_property: Any,
) -> None:
    sharing = system["sharing"]
    alice, bob = await new_account(bus, issuer), await new_account(bus, issuer)
    image_id, _ = await announced_image(bus, alice.account_id, "pushed-golden")
    await sharing_knows(stack, [alice, bob])
    await eventually(
        lambda: alice.call(sharing, "GET", members_path(image_id)).status_code == 200, timeout=60
    )

    with running_gateway(tmp_path / "gw", system) as front:
        async with OpenStream(f"{front.url}/v1/prompts/stream", bob.token) as stream:
            # The current prompt at once: none pending.
            await eventually(lambda: stream.events, timeout=15)
            assert stream.latest() == {"prompts": []}

            offer = {"accounts": [{"name": bob.name}]}
            offered_at = time.monotonic()
            answer = alice.call(sharing, "POST", members_path(image_id), json=offer)
            assert outcomes(answer) == [("offered", None)]
            await eventually(lambda: str(image_id) in image_ids(stream.latest()), timeout=30)
            shown_s = stream.events[-1][0] - offered_at
            prompt = stream.latest()["prompts"][0]  # type: ignore[index]
            assert prompt["title"] == "是否接受镜像"
            assert [a["label"] for a in prompt["actions"]][:2] == ["全部接受", "全部拒绝"]

            answered_at = time.monotonic()
            accepted = bob.call(sharing, "POST", "/v1/shared-images/accept", json={"all": True})
            assert outcomes(accepted) == [("accepted", None)]
            await eventually(lambda: stream.latest() == {"prompts": []}, timeout=30)
            resolved_s = stream.events[-1][0] - answered_at

    record_property("offer_to_stream_s", round(shown_s, 3))
    record_property("answer_to_stream_s", round(resolved_s, 3))
    print(f"offer shown after {shown_s:.3f}s, resolved after {resolved_s:.3f}s")
    assert shown_s < PUSH_BOUND_S
    assert resolved_s < PUSH_BOUND_S


async def test_a_stream_needs_a_token(system: dict[str, ServiceProcess]) -> None:
    answer = httpx.get(system["notifier"].url("/v1/prompts/stream"), timeout=10)

    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/openapi.json"])
def test_the_stream_is_in_the_openapi(system: dict[str, ServiceProcess], path: str) -> None:
    spec = httpx.get(system["notifier"].url(path), timeout=10).json()

    operation = spec["paths"]["/v1/prompts/stream"]["get"]
    assert "text/event-stream" in operation["responses"]["200"]["content"]
    assert "429" in operation["responses"]
