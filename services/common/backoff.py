"""Capped exponential backoff with jitter for retrying transient failures."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.2
    maximum: float = 10.0
    factor: float = 2.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based): full jitter."""
        ceiling = min(self.maximum, self.initial * self.factor ** max(0, attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


DEFAULT_BACKOFF = Backoff()
