"""What to try next, as the README's "Try it" lines but with this stack's real ports and paths.

The README shows the defaults (ports 8081/8084/9092, state dir `.ims/`); a stack moved by
`IMS_*_PORT` or `IMS_STATE_DIR` gets lines that work for it. tests/e2e checks that the
README's lines, moved the same way, are exactly what `deploy/up.sh` prints.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from deploy.stack.config import repo_root
from deploy.stack.gateway import url_of
from deploy.stack.state import StackState
from schemas.topics import topic_name

STACK_CLI = ".venv/bin/ims-stack"


def shown_path(path: Path) -> str:
    """`path` relative to the working directory when inside it (as the README writes it)."""
    here = Path.cwd().resolve()
    resolved = path.resolve()
    shown = str(resolved.relative_to(here)) if resolved.is_relative_to(here) else str(resolved)
    return shlex.quote(shown)


def stack_command(state: StackState, command: str) -> str:
    """An `ims-stack` command line; it names the state dir when that is not the default,
    because the shell the user types it in may not have IMS_STATE_DIR set."""
    if state.path.resolve() == (repo_root() / ".ims").resolve():
        return f"{STACK_CLI} {command}"
    return f"{STACK_CLI} {command} --state-dir {shown_path(state.path)}"


def try_lines(state: StackState, tokens: Path) -> list[str]:
    """The README's "Try it" block, line for line, without its comments."""
    catalog = state.service_url("catalog")
    capture = state.service_url("capture")
    notifier = state.service_url("notifier")
    alice = '-H "Authorization: Bearer $ALICE_TOKEN"'
    bob = '-H "Authorization: Bearer $BOB_TOKEN"'
    ready = topic_name("ImageReady", state.topic_prefix)
    return [
        stack_command(state, "status"),
        f"source {shown_path(tokens)}",
        f"curl -s {alice} '{catalog}/v1/images?tab=private'",
        f"curl -s {alice} '{catalog}/v1/images?tab=public'",
        f'curl -s {alice} "{catalog}/v1/images/$DEMO_IMAGE_ID"',
        f"curl -s {alice} '{capture}/v1/hosts'",
        f"curl -s {alice} '{notifier}/v1/notices'",
        f'curl -s -i {bob} "{catalog}/v1/images/$DEMO_IMAGE_ID"',
        f".venv/bin/kcat -F {shown_path(state.kafka_client_file('reader'))} -C -t {ready}"
        " -o beginning -e",
    ]


def next_steps(state: StackState, tokens: Path) -> str:
    console = url_of(state.path)
    opening = [f"Open the console: {console}/ (sign in as alice, bob or admin)"] if console else []
    lines = [
        "",
        *opening,
        'IMS is running. Try next (the README\'s "Try it"):',
        *(f"  {line}" for line in try_lines(state, tokens)),
        "",
        "API docs: "
        + ", ".join(
            f"{state.service_url(name)}/docs ({name})"
            for name in ("catalog", "capture", "sharing", "notifier")
        ),
        "Follow a log, stop (data kept), delete all local state:",
        f"  {stack_command(state, 'logs catalog -f')}",
        f"  {stack_command(state, 'down')}",
        f"  {stack_command(state, 'reset --yes')}",
    ]
    return "\n".join(lines)
