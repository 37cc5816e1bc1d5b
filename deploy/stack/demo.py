"""Placeholder: the guided demo of `ims-stack demo` (the services' owner replaces this file)."""

from __future__ import annotations

from deploy.stack.state import StackState


def run_demo(state: StackState) -> None:
    """Walk through the product against a running stack described by `state`."""
    raise NotImplementedError("deploy/stack/demo.py is not written yet")
