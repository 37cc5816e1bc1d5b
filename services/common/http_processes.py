"""The HTTP API in several processes (``IMS_HTTP_PROCESSES``): one Python process serves
HTTP on one core at most, so a busy API gets helpers.

The service process (consumer, relay, background jobs, HTTP) starts N-1 helper processes,
``python -m services.<name> http``, that serve only the HTTP API, each with its own
database pool. Every process listens on the same port with ``SO_REUSEPORT`` and the
kernel spreads the connections over them. The API is stateless and writes through the
outbox, which the service process relays, so a helper needs nothing else. A helper that
ends on its own ends the service process too (its supervisor restarts the whole), and a
helper whose service process dies is sent SIGTERM by the kernel (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import signal
import socket
import sys

import structlog

_log = structlog.get_logger(__name__)

_PR_SET_PDEATHSIG = 1
STOP_TIMEOUT_SECONDS = 10.0


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket on ``host:port`` that the service process and its helpers all bind."""
    # IPPROTO_TCP named: asyncio sets TCP_NODELAY on accepted connections only when the
    # listening socket says TCP; without it, Nagle and delayed ACKs add 40 ms per response.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(False)
    return sock


def _die_with_parent() -> None:
    """In the helper, before it runs: SIGTERM when the service process dies, even killed."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


async def run_helpers(service: str, count: int) -> None:
    """Run ``count`` HTTP helpers until cancelled; raise when one of them ends on its own."""
    helpers = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", f"services.{service}", "http", preexec_fn=_die_with_parent
        )
        for _ in range(count)
    ]
    _log.info("http.helpers_started", pids=[helper.pid for helper in helpers])
    try:
        waits = [asyncio.create_task(helper.wait()) for helper in helpers]
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        raise RuntimeError(f"an HTTP helper process exited with {done.pop().result()}")
    finally:
        for helper in helpers:
            if helper.returncode is None:
                helper.terminate()
        for helper in helpers:
            try:
                await asyncio.wait_for(helper.wait(), STOP_TIMEOUT_SECONDS)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    helper.kill()
