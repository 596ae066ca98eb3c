"""Linear time, tested as n against 8n in one run (never a wall-clock bound)."""

from __future__ import annotations

import time
from collections.abc import Callable

#: 8x the input: linear work takes about 8x the time, quadratic 64x.
GROWTH_BOUND = 8 * 3


def best_time(run: Callable[[], object]) -> float:
    """The shortest of three runs: the least disturbed by other processes."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def grows_linearly(make: Callable[[int], Callable[[], object]], n: int) -> None:
    """``make(8 * n)`` runs in less than GROWTH_BOUND times ``make(n)``'s time."""
    small, large = make(n), make(8 * n)
    small(), large()  # warm up (regexes compiled, grammar built)
    ratio = best_time(large) / best_time(small)
    assert ratio < GROWTH_BOUND, f"8x the input took {ratio:.1f}x the time"
