"""Run store and executor behaviour on a fixture notebook (real papermill, no model compute).

- a finished run is skipped and says why; a second invocation re-runs nothing;
- a failing run never stops the others, its dependants are blocked, --retry-failed re-queues;
- SIGKILL of the orchestrator at random moments, then restart: the sweep completes, no
  finished run executes again, no result file is corrupt, and status agrees with the files;
- the submitit path works with submitit's local executor.
"""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from xstilts import io, paths, pipeline, runs

COUNTER = paths.FIXTURES / "notebooks" / "counter.ipynb"


def make_plan(n: int = 4, steps: int = 4, sleep: float = 0.15, fail: tuple = ()) -> list[runs.Run]:
    """A small DAG: root -> n middle runs -> final."""
    root = runs.Run("data", {"name": "root"}, {"steps": 2, "sleep": sleep, "value": 1}, COUNTER)
    mids = [
        runs.Run(
            "intermediate",
            {"name": f"m{i}"},
            {"steps": steps, "sleep": sleep, "value": i + 2, "fail": i in fail},
            COUNTER,
            deps=[root],
        )
        for i in range(n)
    ]
    final = runs.Run(
        "analysis",
        {"name": "final"},
        {"steps": 1, "sleep": sleep, "value": 7},
        COUNTER,
        deps=[root, *mids],
    )
    return [root, *mids, final]


def expected_total(run: runs.Run) -> int:
    steps, value = run.params["steps"], run.params["value"]
    return value * steps * (steps + 1) // 2


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def test_skip_after_finish_and_reason(store, capsys):
    plan = make_plan(n=2, steps=2, sleep=0.0)
    first = pipeline.execute(plan)
    assert [s.outcome for s in first.steps] == ["ran"] * 4
    for r in plan:
        assert runs.is_done(r.dir)
        assert io.read_json(r.dir / "metrics.json")["total"] == expected_total(r)
        assert (r.dir / "report.html").exists() and (r.dir / "notebook.ipynb").exists()
        assert not (r.dir / "notebook.partial.ipynb").exists()
    t0 = time.time()
    second = pipeline.execute(plan)
    assert [s.outcome for s in second.steps] == ["skipped"] * 4
    assert time.time() - t0 < 5
    out = capsys.readouterr().out
    assert "skipped" in out and "finished run with identical params" in out


def test_changed_params_make_downstream_stale(store):
    plan = make_plan(n=2, steps=1, sleep=0.0)
    pipeline.execute(plan)
    changed = make_plan(n=2, steps=1, sleep=0.0)
    changed[1].params["value"] = 99  # m0 changes -> m0 and final re-run, m1 does not
    states = {r.name: runs.state(r) for r in changed}
    assert states["root"][0] == "done"
    assert states["m1"][0] == "done"
    assert states["m0"] == ("stale", "changed since the last finished run: params")
    assert states["final"][0] == "stale" and "upstream runs" in states["final"][1]


def test_failure_does_not_stop_others_and_retry(store, capsys):
    plan = make_plan(n=3, steps=1, sleep=0.0, fail=(1,))
    summary = pipeline.execute(plan)
    outcomes = {s.run.name: s.outcome for s in summary.steps}
    assert outcomes == {"root": "ran", "m0": "ran", "m1": "FAILED", "m2": "ran", "final": "blocked"}
    failed = plan[2]
    info = io.read_json(failed.dir / runs.FAILED)
    assert "injected failure" in info["reason"] and info["log"]
    out = capsys.readouterr().out
    assert "did not finish" in out and "injected failure" in out
    again = pipeline.execute(plan)
    assert {s.run.name: s.outcome for s in again.steps}["m1"] == "FAILED"  # not retried
    fixed_plan = make_plan(n=3, steps=1, sleep=0.0)  # fixed input -> new run id
    fixed = pipeline.execute(fixed_plan)
    assert {s.run.name: s.outcome for s in fixed.steps}["final"] == "ran"


ORCHESTRATOR = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from integration.test_pipeline import make_plan
    from xstilts import pipeline
    pipeline.execute(make_plan(n=4, steps=4, sleep=0.15))
    """
)


def _corrupt_files(root: Path, temp_ok: bool = False) -> list[str]:
    """Result files that do not parse; with ``temp_ok=False`` also any temp file."""
    bad = []
    for p in root.rglob("*"):
        if p.name.endswith(".tmp"):
            if not temp_ok:
                bad.append(f"leftover temp file {p}")
        elif p.suffix == ".json" or p.name == runs.STAMP:
            try:
                json.loads(p.read_text())
            except ValueError:
                bad.append(f"corrupt {p}")
    return bad


def test_sigkill_orchestrator_five_times_then_complete(store):
    rng = random.Random(1234)
    env = {**os.environ, "XSTILTS_RUNS": str(store)}
    script = ORCHESTRATOR.format(tests=str(paths.TESTS))
    for _ in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-c", script],
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(1.0, 6.0))
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group: orchestrator and its kernels
        proc.wait()
        # A kill between a temp file's creation and its rename may leave the temp file
        # (never a half-written result); the next start removes it (checked below).
        assert not _corrupt_files(store, temp_ok=True), _corrupt_files(store, temp_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    plan = make_plan(n=4, steps=4, sleep=0.15)
    for r in plan:
        assert runs.state(r)[0] == "done"  # status agrees with the files
        assert io.read_json(r.dir / "metrics.json")["total"] == expected_total(r)
        finished = (r.dir / runs.STAMP).stat().st_mtime
        starts = [float(x) for x in (r.dir / "starts.log").read_text().split()]
        assert all(s <= finished for s in starts), "a finished run was executed again"
    assert not _corrupt_files(store)


def test_submitit_local_executor(store):
    from xstilts import sweep

    plan = make_plan(n=2, steps=1, sleep=0.0)
    summary = sweep.execute_graph(plan, executor="submitit-local", folder=store / "_submitit")
    assert [s.outcome for s in summary.steps] == ["ran"] * 4
    assert all(runs.is_done(r.dir) for r in plan)
    again = sweep.execute_graph(plan, executor="submitit-local", folder=store / "_submitit")
    assert [s.outcome for s in again.steps] == ["skipped"] * 4
