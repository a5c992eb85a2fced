"""The running count and time-left estimate printed before each step line."""

from __future__ import annotations

import pytest

from xstilts import progress


@pytest.mark.parametrize(
    "seconds,text",
    [
        (None, "?"),
        (0.2, "~1 s"),
        (42, "~42 s"),
        (360, "~6 min"),
        (5399, "~90 min"),
        (9000, "~2.5 h"),
    ],
)
def test_format_left(seconds, text):
    assert progress.format_left(seconds) == text


def test_time_left_scales_the_cost_model_by_measured_wall_time():
    p = progress.Progress(cost={"a": 10.0, "b": 30.0, "c": 60.0}, total=5, started=0.0)
    assert p.step("done-before", executed=False, now=1.0).rstrip() == "[1/5, ? left]"  # no rate
    # "a" (10 cost units) took 20 s of wall time: the remaining 90 units take 180 s.
    assert p.step("a", executed=True, now=20.0) == "[2/5, ~3 min left] "
    assert p.left(now=20.0) == pytest.approx(180.0)
    # "b" blocked: its cost leaves the remainder without teaching the rate.
    p.step("b", executed=False, now=20.0)
    assert p.left(now=20.0) == pytest.approx(120.0)
    assert p.step("c", executed=True, now=200.0).rstrip() == "[4/5]"  # nothing left to execute
    assert p.left() == 0.0


def test_for_plan_leaves_finished_runs_out(tmp_path, monkeypatch):
    from xstilts import cli, runs

    monkeypatch.setenv("XSTILTS_RUNS", str(tmp_path))
    _, plan = cli.load("smoke")
    runs.mark_done(runs.prepare(plan[0]), 1.0, False)
    p = progress.for_plan(plan, {plan[1].run_id: 50.0})
    assert p.total == len(plan) and plan[0].run_id not in p.cost
    assert p.cost[plan[1].run_id] == 50.0 + progress.RUN_OVERHEAD_S
    assert p.cost[plan[2].run_id] == progress.RUN_OVERHEAD_S
