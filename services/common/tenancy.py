"""Whose fact is it: a fact about an account's resources is stated in that account's name.

The envelope's ``tenant`` is the account a fact concerns. A fact whose body names another
account (a producer acting for someone else, or a bug) is refused, never applied.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from schemas.envelope import Envelope
from services.common.failures import Rejected


def require_tenant(event: Envelope[Any], account_id: UUID) -> None:
    """Raise Rejected unless ``event`` is stated in the name of ``account_id``."""
    if event.tenant != str(account_id):
        raise Rejected(
            f"tenant {event.tenant} may not state {event.type} facts for account {account_id}"
        )
