"""The gateway: Debian's nginx in front of the console and the four services, one origin.

Run like the stack's other components: its own prefix under ``<state dir>/gateway``
(config, pid file, logs, temp dirs), ``daemon off`` in a session of its own, found again by
its pid file and the prefix on its command line. The config is rendered from
``deploy/gateway/nginx.conf.template`` with the services' ports; the services' paths pass
through unchanged.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from deploy.stack import process
from deploy.stack.config import SERVICES, StackConfig, repo_root
from deploy.stack.keys import write_private
from deploy.stack.process import StackError
from deploy.stack.state import StackState

DEFAULT_PORT = 8080
TEMPLATE = repo_root() / "deploy" / "gateway" / "nginx.conf.template"
CONSOLE_DIR = repo_root() / "console"
NGINX = "/usr/sbin/nginx"


def nginx_binary() -> str:
    found = os.environ.get("IMS_NGINX") or shutil.which("nginx") or NGINX
    if not Path(found).exists():
        raise StackError("nginx not found: install Debian's nginx (deploy/bootstrap.sh does)")
    return found


@dataclass(frozen=True)
class GatewayNode:
    """One nginx: where its files live, its port, and the services it routes to."""

    home: Path  # <state dir>/gateway
    port: int
    upstreams: dict[str, int]  # service name -> its HTTP port on 127.0.0.1
    console_dir: Path = CONSOLE_DIR
    demo_accounts: Path | None = None  # served at /demo-accounts.json (local stack only)

    @property
    def conf(self) -> Path:
        return self.home / "nginx.conf"

    @property
    def pid_file(self) -> Path:
        return self.home / "nginx.pid"

    @property
    def log(self) -> Path:
        return self.home / "error.log"

    @property
    def access_log(self) -> Path:
        return self.home / "access.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def marker(self) -> str:
        # nginx shows its argv in the master's title: "nginx: master process nginx -p <home>"
        return str(self.home)

    def save(self) -> None:
        """``gateway.json``: what ``status`` and ``down`` need without the stack's config."""
        self.home.mkdir(parents=True, exist_ok=True)
        raw = asdict(self) | {"home": str(self.home), "console_dir": str(self.console_dir)}
        raw["demo_accounts"] = str(self.demo_accounts) if self.demo_accounts else None
        (self.home / "gateway.json").write_text(json.dumps(raw, indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, home: Path) -> GatewayNode | None:
        try:
            raw = json.loads((home / "gateway.json").read_text())
        except (OSError, ValueError):
            return None
        demo = raw.get("demo_accounts")
        return cls(
            home=Path(raw["home"]),
            port=int(raw["port"]),
            upstreams={k: int(v) for k, v in raw["upstreams"].items()},
            console_dir=Path(raw["console_dir"]),
            demo_accounts=Path(demo) if demo else None,
        )


def gateway_home(state_dir: Path) -> Path:
    return state_dir / "gateway"


def render(node: GatewayNode, template: Path = TEMPLATE) -> str:
    """The nginx.conf for `node`: every ``{{name}}`` of the template filled in."""
    missing = [name for name in SERVICES if name not in node.upstreams]
    if missing:
        raise StackError(f"gateway: no port for {', '.join(missing)}")
    values = {
        "home": str(node.home),
        "port": str(node.port),
        "console_dir": str(node.console_dir),
        "user": _user_directive(),
        "demo_accounts": _demo_location(node.demo_accounts),
        **{f"{name}_port": str(port) for name, port in node.upstreams.items()},
    }
    text = template.read_text()
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    if "{{" in text:
        left = text[text.index("{{") :].split("}}", 1)[0]
        raise StackError(f"gateway: template placeholder {left}}}}} has no value")
    return text


def _user_directive() -> str:
    """As root, workers run as the stack's user too: they read console/ wherever the
    repository is cloned (CI clones under /root, which nginx's default `nobody` cannot
    enter). Not root: nginx keeps the caller's user and the directive would only warn."""
    if os.geteuid() != 0:
        return "# (not root: nginx runs as the caller's user)"
    name = pwd.getpwuid(os.geteuid()).pw_name
    return f"user {name};"


def _demo_location(path: Path | None) -> str:
    if path is None:
        return "        # (none: not the local stack)"
    return (
        "        location = /demo-accounts.json {\n"
        f"            alias {path};\n"
        "            default_type application/json;\n"
        '            add_header Cache-Control "no-store";\n'
        "        }"
    )


def running_pid(node: GatewayNode) -> int | None:
    pid = process.read_pid(node.pid_file)
    return pid if process.is_alive(pid, node.marker) else None


def start(node: GatewayNode, timeout_s: float = 30.0) -> int:
    """Write the config, check it (``nginx -t``), start nginx; reload one that runs."""
    for sub in ("client-body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (node.home / "tmp" / sub).mkdir(parents=True, exist_ok=True)
    node.conf.write_text(render(node))
    node.save()
    argv = [nginx_binary(), "-p", str(node.home), "-c", str(node.conf)]
    process.run_checked([*argv, "-t", "-q"], "checking the gateway's nginx.conf", 30.0)
    pid = running_pid(node)
    if pid is not None:
        process.run_checked([*argv, "-s", "reload"], "reloading the gateway", 30.0)
        return pid
    pid = process.start_detached(argv, node.home / "nginx.out", node.pid_file)
    wait_ready(node, pid, timeout_s)
    return pid


def wait_ready(node: GatewayNode, pid: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not process.exists(pid):
            raise StackError(
                f"the gateway (nginx) exited during startup; log {node.log}:\n"
                f"{process.tail(node.log)}\n{process.tail(node.home / 'nginx.out')}"
            )
        if healthy(node.url):
            return
        time.sleep(0.2)
    raise StackError(f"the gateway on {node.url} not answering after {timeout_s:.0f}s")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def stop(home: Path, grace_s: float = 20.0) -> bool:
    """Stop the gateway whose files are in `home` (SIGTERM: nginx's fast shutdown)."""
    pid_file = home / "nginx.pid"
    stopped = process.stop(process.read_pid(pid_file), str(home), grace_s)
    pid_file.unlink(missing_ok=True)
    return stopped


DEMO_TOKEN_TTL_HOURS = 12.0  # as the demo's tokens.env: an afternoon of trying by hand


def write_demo_accounts(state: StackState) -> Path:
    """``<state dir>/gateway/demo-accounts.json``: alice, bob and an admin with tokens
    from the stack's issuer, for the console's sign-in page (owner-only, replaced whole)."""
    from deploy.stack.demo import ACCOUNTS, demo_id  # the demo module imports the stack

    issuer = state.issuer()
    ttl = timedelta(hours=DEMO_TOKEN_TTL_HOURS)
    expires = datetime.now(UTC) + ttl
    people = [(name, False) for name in ACCOUNTS] + [("admin", True)]
    accounts = [
        {
            "name": name,
            "account_id": str(demo_id(f"account:{name}")),
            "admin": admin,
            "token": issuer.token(
                demo_id(f"account:{name}"), name, roles=("admin",) if admin else (), ttl=ttl
            ),
            "expires_at": expires.isoformat(timespec="seconds"),
        }
        for name, admin in people
    ]
    path = gateway_home(state.path) / "demo-accounts.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_private(path, json.dumps({"accounts": accounts}, indent=2))
    return path


def start_for_stack(cfg: StackConfig, state: StackState) -> GatewayNode:
    """The local stack's gateway, on ``cfg.gateway_port``, in front of its services."""
    node = GatewayNode(
        home=gateway_home(cfg.state_dir),
        port=cfg.gateway_port,
        upstreams={name: svc.port for name, svc in state.services.items()},
        demo_accounts=write_demo_accounts(state),
    )
    start(node)
    return node


def url_of(state_dir: Path) -> str | None:
    """The gateway's URL when one was started for this state dir."""
    node = GatewayNode.load(gateway_home(state_dir))
    return None if node is None else node.url
