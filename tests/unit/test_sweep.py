"""Cluster-scale sweeps: dependency-driven starts, requeue with resume, timeouts, job status.

The runs here are fakes (a picklable runner that counts steps with a checkpoint file), so
the scheduling logic is checked without notebooks or models; the SLURM path runs on
submitit's local executor, which has SLURM's timeout signal and requeue.
"""

import time

import pytest

from xstilts import io, jobs, paths, runs, sweep

NB = paths.NOTEBOOKS / "00_data.ipynb"  # any notebook: the fakes never execute it


@pytest.fixture()
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_RUNS", str(tmp_path / "runs"))
    return tmp_path / "runs"


def counting_runner(run, resumed):
    """A resumable fake run: ``steps`` steps of ``sleep`` s, checkpointed after each."""
    d = runs.prepare(run)
    ck = d / "count.json"
    step = io.read_json(ck)["step"] if ck.exists() else 0
    with open(d / "starts.log", "a") as f:
        f.write(f"{time.time()} {step} {resumed}\n")
    if run.params.get("fail"):
        runs.mark_failed(d, "injected failure", None)
        return False, "injected failure", None
    while step < run.params["steps"]:
        time.sleep(run.params["sleep"])
        step += 1
        io.atomic_write_json(ck, {"step": step})
    runs.write_metrics(d, {"steps": step})
    runs.mark_done(d, 0.0, resumed)
    return True, "", None


def _run(phase, name, steps, sleep, deps=(), fail=False):
    p = {"steps": steps, "sleep": sleep, "fail": fail}
    return runs.Run(phase, {"name": name}, p, NB, deps=list(deps))


def _times(run):
    return [float(line.split()[0]) for line in (run.dir / "starts.log").read_text().splitlines()]


def test_a_run_starts_when_its_own_upstream_runs_finish(store):
    """Not phase by phase: a target whose upstream is done starts while a slow phase-(ii) run trains."""
    data = _run("data", "d", 1, 0.0)
    slow = _run("intermediate", "slow", 1, 4.0, [data])
    fast = _run("intermediate", "fast", 1, 0.0, [data])
    target = _run("target", "t", 1, 0.0, [data, fast])
    final = _run("analysis", "a", 1, 0.0, [data, slow, fast, target])
    plan = [data, slow, fast, target, final]
    summary = sweep.execute_graph(plan, "local-parallel", workers=2, runner=counting_runner)
    assert sorted(s.outcome for s in summary.steps) == ["ran"] * 5
    slow_done = (slow.dir / runs.STAMP).stat().st_mtime
    assert _times(target)[0] < slow_done  # before: the target wave waited for every phase-(ii) run
    assert _times(final)[0] >= slow_done
    records = jobs.load()
    assert {records[r.run_id]["state"] for r in plan} == {"done"}


def test_failed_run_blocks_only_its_dependants(store):
    data = _run("data", "d", 1, 0.0)
    broken = _run("intermediate", "broken", 1, 0.0, [data], fail=True)
    fine = _run("intermediate", "fine", 1, 0.0, [data])
    after_broken = _run("target", "tb", 1, 0.0, [data, broken])
    after_fine = _run("target", "tf", 1, 0.0, [data, fine])
    plan = [data, broken, fine, after_broken, after_fine]
    summary = sweep.execute_graph(plan, "local-parallel", workers=2, runner=counting_runner)
    outcome = {s.run.run_id: s.outcome for s in summary.steps}
    assert outcome[broken.run_id] == "FAILED" and outcome[after_broken.run_id] == "blocked"
    assert outcome[after_fine.run_id] == "ran"
    assert jobs.load()[broken.run_id]["state"] == "failed"


def test_one_phase_reports_only_its_own_runs(store):
    """`invoke phase --name data` once listed every later run as blocked and exited 1."""
    from xstilts import pipeline

    data = _run("data", "d", 1, 0.0)
    inter = _run("intermediate", "i", 1, 0.0, [data])
    target = _run("target", "t", 1, 0.0, [data, inter])
    plan = [data, inter, target]
    summary = pipeline.execute(plan, only_phase="data", runner=counting_runner)
    assert [(s.run.run_id, s.outcome) for s in summary.steps] == [(data.run_id, "ran")]
    assert not summary.failures
    blocked = pipeline.execute(plan, only_phase="target", runner=counting_runner)
    assert [(s.run.run_id, s.outcome) for s in blocked.steps] == [(target.run_id, "blocked")]
    assert blocked.failures  # asked for, and its upstream phase-(ii) run is unfinished


def test_slurm_path_requeues_on_timeout_and_resumes(store):
    """submitit's local executor sends the timeout signal; the run comes back and resumes."""
    data = _run("data", "d", 6, 0.5)
    plan = [data]
    slurm = {"signal_delay_s": 4, "max_num_timeout": 10}  # the signal 2 s after a start
    summary = sweep.execute_graph(
        plan,
        "submitit-local",
        slurm=slurm,
        folder=store / "_submitit",
        timeouts={data.run_id: 0.1},  # 6 s per job: less than the run's 3 s of work + starts
        runner=counting_runner,
        poll_s=0.5,
    )
    assert [s.outcome for s in summary.steps] == ["ran"]
    assert io.read_json(data.dir / "metrics.json")["steps"] == 6
    starts = (data.dir / "starts.log").read_text().splitlines()
    assert len(starts) >= 2 and jobs.requeues(data.dir) == len(starts) - 1
    resumed = [line.split()[1:] for line in starts[1:]]
    assert all(flag == "True" for _, flag in resumed)  # a requeued job resumes the run
    assert int(resumed[-1][0]) > 0  # ... from its checkpoint, not from step 0
    rec = jobs.load()[data.run_id]
    assert rec["state"] == "done" and rec["log"].endswith(".out")
    line = jobs.status_lines(plan, jobs.load())[0]
    assert f"requeued {len(starts) - 1}x" in line and rec["log"] in line


def test_timeouts_follow_the_estimate_capped_at_the_limit():
    plan = [_run("intermediate", n, 1, 0.0) for n in ("short", "long")]
    est = [{"device_hours": 0.1}, {"device_hours": 26.0}]
    got = sweep.timeouts(est, plan, limit_min=1440)
    assert got[plan[0].run_id] == sweep.TIMEOUT_FLOOR_MIN
    assert got[plan[1].run_id] == 1440  # longer than the limit: requeued, not failed
    needs = [sweep.need_minutes(e["device_hours"]) for e in est]
    # 26 h x 1.5 = 39 h at 24 h per job: 2 jobs, so 1 timeout requeue, plus 3 spare.
    assert sweep.max_timeouts(needs, 1440) == 4


def test_job_states_map_to_five_words():
    assert jobs.map_state("slurm", "PENDING") == "pending"
    assert jobs.map_state("slurm", "PENDING", requeues=1) == "requeued"
    assert jobs.map_state("slurm", "RUNNING") == "running"
    assert jobs.map_state("slurm", "PREEMPTED") == "requeued"
    assert jobs.map_state("slurm", "COMPLETED") == "done"
    assert jobs.map_state("slurm", "CANCELLED by 42") == "failed"
    assert jobs.map_state("slurm", "OUT_OF_MEMORY") == "failed"
    assert jobs.map_state("local", "FINISHED") == "done"
    assert set(jobs._SLURM_STATES.values()) <= set(jobs.STATES)


class _LiveSlurmJob:
    """Stands in for ``submitit.SlurmJob`` of a job an earlier driver submitted."""

    def __init__(self, folder, job_id):
        self.job_id, self.state = job_id, "RUNNING"

    def done(self):
        return True

    def result(self):
        return True, "", None


def test_a_new_driver_waits_for_the_live_job_of_an_earlier_one(store, monkeypatch):
    data = _run("data", "d", 1, 0.0)
    runs.prepare(data)  # the earlier driver's job is writing it: partial
    record = jobs.new_record(data, "slurm", "4242", "/logs/4242_0_log.out", "running")
    jobs.save({data.run_id: record})
    monkeypatch.setattr(sweep.submitit, "SlurmJob", _LiveSlurmJob)
    submitted = []
    monkeypatch.setattr(sweep._Submitit, "submit", lambda self, run, res: submitted.append(run))
    summary = sweep.execute_graph(
        [data], "slurm", folder=store / "_submitit", runner=counting_runner
    )
    assert submitted == [] and [s.outcome for s in summary.steps] == ["resumed"]
    assert "job 4242 of an earlier sweep" in summary.steps[0].reason
    assert not (data.dir / "starts.log").exists()  # no second job ran it


def test_invoke_status_shows_job_state_and_log(store, capsys):
    from xstilts import cli, params, pipeline

    plan = pipeline.plan(params.load_profile("smoke"))
    target = plan[2]
    record = jobs.new_record(
        target, "local-parallel", "pool-3", "/x/notebook.partial.ipynb", "running"
    )
    jobs.save({target.run_id: record})
    assert cli.status("smoke") == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.split()[1] == target.run_id)
    assert "[job pool-3 (local-parallel): running; log /x/notebook.partial.ipynb]" in line
    assert out.splitlines()[-1] == "jobs: running: 1"


def test_estimate_counts_the_subsampled_rows_of_a_real_source():
    """`data.subsample` cuts every real split, so the estimate must shrink with it.

    The rehearsal reads the real files cut to a few rows; before, its estimate counted the
    official sizes (22.7 device-hours for a 45-minute CPU job).
    """
    from xstilts import params, pipeline, xtreme

    cut = params.load_profile("rehearsal")
    uncut = params.load_profile(
        "rehearsal", {"data": {"subsample": {"train": 0, "dev": 0, "test": 0}}}
    )
    plan = pipeline.plan(cut)
    est_cut = sweep.estimate(cut, plan)
    est_uncut = sweep.estimate(uncut, pipeline.plan(uncut))
    assert [e["run"] for e in est_cut] == [e["run"] for e in est_uncut]
    mnli = [
        (r, a, b)
        for r, a, b in zip(plan, est_cut, est_uncut)
        if r.phase == "intermediate"
        and r.params["tasks"] == ["mnli"]
        and r.params["mode"] == "english"
    ]
    assert mnli
    for run, a, b in mnli:
        epochs = run.params["train"]["epochs"]
        assert a["examples"] == cut.data.subsample["train"] * epochs
        assert b["examples"] == xtreme.TRAIN_SIZES["mnli"] * epochs
    assert sum(e["examples"] for e in est_cut) < sum(e["examples"] for e in est_uncut) / 100
    # Tiny runs still cost their fixed overhead: the rehearsal is not free.
    assert sum(e["device_hours"] for e in est_cut) >= len(plan) * sweep.RUN_OVERHEAD_S / 3600
