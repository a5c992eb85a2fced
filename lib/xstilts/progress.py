"""Running count and time left of a sweep, printed before each step line.

    [23/55, ~6 min left] target  e5-L6_mnli_english_0_xnli  ran  41.2s  never run

The estimate scales the cost model (``sweep.estimate``: examples / throughput per run) by
what the sweep has measured so far: time left = wall time so far x (estimated cost of the
runs still to do / estimated cost of the runs done). Dividing wall time, not summing run
times, keeps it right with parallel workers; scaling by the measurement corrects a cost
model whose throughput figure is off for this machine. Finished runs cost nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

# Fixed cost of every executed run (kernel start, notebook, HTML), in seconds; it keeps runs
# the cost model counts as free (data, analysis) from teaching an infinite rate.
RUN_OVERHEAD_S = 10.0


def format_left(seconds: float | None) -> str:
    """Human time left: ``~40 s``, ``~6 min``, ``~2.5 h``; ``None`` (no measurement yet) -> ``?``."""
    if seconds is None:
        return "?"
    if seconds < 59.5:  # rounds to at most "~59 s"
        return f"~{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"~{seconds / 60:.0f} min"
    return f"~{seconds / 3600:.1f} h"


@dataclass
class Progress:
    """Counts steps of a sweep and estimates the wall time left.

    Attributes:
        cost: Run id -> estimated cost (any unit) of the runs this sweep may execute;
            runs already finished are left out (they cost nothing).
        total: Number of steps the sweep prints (every run of the plan).
        started: Wall-clock start of the sweep.
    """

    cost: dict[str, float]
    total: int
    started: float = field(default_factory=time.time)
    done_steps: int = 0
    done_cost: float = 0.0

    def step(self, run_id: str, executed: bool, now: float | None = None) -> str:
        """Record one finished step; return its prefix ``[n/total, ~t left]``.

        Args:
            run_id: The run of the step.
            executed: Whether it ran (or resumed or failed) rather than being skipped
                or blocked; only executed runs teach the rate.
            now: Current time (tests pass it).
        """
        self.done_steps += 1
        self.total = max(self.total, self.done_steps)  # a blocked run outside a phase filter
        spent = self.cost.pop(run_id, 0.0)
        if executed:
            self.done_cost += spent
        left = self.left(now)
        count = f"{self.done_steps}/{self.total}"
        text = f"[{count}]" if left == 0 else f"[{count}, {format_left(left)} left]"
        return text.ljust(len(f"[{self.total}/{self.total}, ~59 min left]"))  # aligned columns

    def left(self, now: float | None = None) -> float | None:
        """Estimated seconds left, or ``None`` before the first executed run."""
        remaining = sum(self.cost.values())
        if remaining == 0:
            return 0.0
        if self.done_cost <= 0:
            return None
        elapsed = (now if now is not None else time.time()) - self.started
        return elapsed * remaining / self.done_cost


def for_plan(plan, weights: dict[str, float] | None = None) -> Progress:
    """A ``Progress`` for a plan: unfinished runs cost their estimate plus ``RUN_OVERHEAD_S``.

    Args:
        plan: The runs of the sweep.
        weights: Estimated compute seconds per run id (``sweep.estimate``); without it every
            run weighs the same and the estimate is an average of elapsed times.
    """
    from xstilts import runs

    weights = weights or {}
    cost = {
        r.run_id: weights.get(r.run_id, 0.0) + RUN_OVERHEAD_S
        for r in plan
        if not runs.is_done(r.dir)
    }
    return Progress(cost=cost, total=len(plan))
