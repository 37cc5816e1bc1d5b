"""The README's quick start as tests read it: the first command and the "Try it" lines.

Tests take the commands from README.md itself, so the README and what is tested cannot
drift apart. A stack moved to other ports and another state dir gets the same lines with
the defaults replaced (`moved`), as `deploy/up.sh` prints them for it.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from deploy.stack.config import DEFAULT_HTTP_PORTS, StackConfig, repo_root

README = repo_root() / "README.md"
KAFKA_DEFAULT_PORT = 9092
GATEWAY_DEFAULT_PORT = StackConfig.gateway_port  # IMS_GATEWAY_PORT's default
# A shell comment after a command: whitespace, '#', whitespace (no README command has one
# inside quotes).
_COMMENT = re.compile(r"\s+#\s.*$")
_LOOPBACK_PORT = re.compile(r"127\.0\.0\.1:(\d+)")
_STATE_DIR = re.compile(r"(?<![\w./])\.ims/")


def _fenced_block(text: str, heading: str, language: str) -> list[str]:
    if f"\n{heading}\n" not in text:
        raise AssertionError(f"README.md has no section {heading!r}")
    section = text.split(f"\n{heading}\n", 1)[1]
    if f"```{language}\n" not in section:
        raise AssertionError(f"README.md section {heading!r} has no ```{language} block")
    block = section.split(f"```{language}\n", 1)[1].split("\n```", 1)[0]
    return [_COMMENT.sub("", line).rstrip() for line in block.splitlines() if line.strip()]


def quick_start_commands(readme: Path = README) -> list[str]:
    """The commands of the ```bash block under "## Quick start" (1. up, 2. test)."""
    return _fenced_block(readme.read_text(), "## Quick start", "bash")


def try_it_lines(readme: Path = README) -> list[str]:
    """The commands of the ```bash block under "### Try it", without comments."""
    return _fenced_block(readme.read_text(), "### Try it", "bash")


def default_ports() -> dict[str, int]:
    return {**DEFAULT_HTTP_PORTS, "kafka": KAFKA_DEFAULT_PORT, "gateway": GATEWAY_DEFAULT_PORT}


def moved(line: str, ports: dict[str, int], state_dir: Path) -> str:
    """`line` for a stack on `ports` (by component) with state in `state_dir`.

    A loopback port the README uses but no component has fails loudly: the line would
    otherwise reach a stack on the default ports (someone else's, or none).
    """
    by_default = {port: name for name, port in default_ports().items()}

    def port(match: re.Match[str]) -> str:
        default = int(match.group(1))
        if default not in by_default:
            raise AssertionError(f"README line uses port {default} of no component: {line}")
        return f"127.0.0.1:{ports[by_default[default]]}"

    quoted = shlex.quote(str(state_dir))
    line = _STATE_DIR.sub(lambda _: f"{quoted}/", _LOOPBACK_PORT.sub(port, line))
    if line.startswith(".venv/bin/ims-stack "):
        line += f" --state-dir {quoted}"  # the user's shell may not have IMS_STATE_DIR
    return line


TESTKIT_SECTION = "## Testing your service against IMS (`ims_testkit`)"


def readme_example_files(readme: Path = README) -> dict[str, str]:
    """The ```python blocks of the testkit section, by the file their first line names
    (`# tests/conftest.py`), exactly as written."""
    text = readme.read_text()
    if f"\n{TESTKIT_SECTION}\n" not in text:
        raise AssertionError(f"README.md has no section {TESTKIT_SECTION!r}")
    section = text.split(f"\n{TESTKIT_SECTION}\n", 1)[1].split("\n## ", 1)[0]
    files = {}
    for block in section.split("```python\n")[1:]:
        code = block.split("\n```", 1)[0] + "\n"
        first = code.splitlines()[0]
        if not first.startswith("# "):
            raise AssertionError(f"a README example block does not name its file: {first!r}")
        files[first.removeprefix("# ").strip()] = code
    return files
