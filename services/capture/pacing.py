"""Pacing a capture's reads (IMS_CAPTURE_READ_MIB_PER_SECOND).

Clouds cap the rate at which a capture reads a disk, so that it does not starve the other
hosts on the same block storage of bandwidth.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class ReadPacer:
    """Keeps a sequence of reads at ``bytes_per_second`` at most; 0 means unlimited.

    Each read is paid for once it is done, by waiting until the rate allows its size from
    the moment it began. Time lost elsewhere (a slow disk, a database outage) is not saved
    up for a burst later, so one wait is never longer than one read's size at the rate.
    """

    def __init__(
        self, bytes_per_second: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if bytes_per_second < 0:
            raise ValueError(f"a read rate cannot be negative: {bytes_per_second}")
        self._rate = bytes_per_second
        self._clock = clock
        self._next_read_at = clock()  # when the next read begins (or began)

    def delay_after(self, read_bytes: int) -> float:
        """Seconds to wait now that a read of ``read_bytes`` is done."""
        if not self._rate:
            return 0.0
        now = self._clock()
        paid_at = self._next_read_at + read_bytes / self._rate
        self._next_read_at = max(paid_at, now)
        return max(0.0, paid_at - now)

    async def after_read(self, read_bytes: int) -> None:
        delay = self.delay_after(read_bytes)
        if delay > 0:
            await asyncio.sleep(delay)
