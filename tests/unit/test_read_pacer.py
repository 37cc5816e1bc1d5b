"""ReadPacer: a capture reads no faster than its rate, and never bursts to catch up."""

from __future__ import annotations

import pytest

from services.capture.pacing import ReadPacer

MIB = 1024 * 1024


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_unlimited_never_waits() -> None:
    pacer = ReadPacer(0)
    assert [pacer.delay_after(4 * MIB) for _ in range(3)] == [0.0, 0.0, 0.0]


def test_fast_reads_wait_for_the_rate() -> None:
    clock = Clock()
    pacer = ReadPacer(1 * MIB, clock=clock)
    waits = []
    for _ in range(3):
        clock.now += 0.5  # the read itself
        waits.append(pacer.delay_after(4 * MIB))
        clock.now += waits[-1]  # the wait
    assert waits == [3.5, 3.5, 3.5]
    assert clock.now == 112.0  # 12 MiB in 12 s


def test_a_read_slower_than_the_rate_does_not_wait() -> None:
    clock = Clock()
    pacer = ReadPacer(1 * MIB, clock=clock)
    clock.now += 5
    assert pacer.delay_after(4 * MIB) == 0.0


def test_time_lost_is_not_saved_up_for_a_burst() -> None:
    clock = Clock()
    pacer = ReadPacer(2 * MIB, clock=clock)
    clock.now += 60  # a read stalled a minute (a slow disk)
    assert pacer.delay_after(4 * MIB) == 0.0
    clock.now += 0.1
    assert pacer.delay_after(4 * MIB) == pytest.approx(1.9)  # at the rate again at once


def test_a_negative_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        ReadPacer(-1)
