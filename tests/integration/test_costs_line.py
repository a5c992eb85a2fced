"""The index's Costs line: wall time of the executions that made the current results.

Scenario of a first run with a failure, then a retry: the last execution alone finished a
few runs in under a minute; the results took both executions.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from xstilts import cli, io, params, pipeline, report

sys.path.insert(0, str(Path(__file__).parent))  # bundle_fixture sits beside this file
from bundle_fixture import make_fake_bundle  # noqa: E402


def _summary(run_ids, outcome="ran"):
    steps = []
    for rid in run_ids:
        run = type("R", (), {"run_id": rid})()
        steps.append(pipeline.StepResult(run, outcome, ""))
    return pipeline.Summary(steps)


def test_results_wall_time_sums_the_executions_that_made_them(tmp_path):
    profile = params.load_profile("smoke")
    plan = list(range(55))
    cli.record_execution(profile, plan, _summary(["old1"]), 100.0, tmp_path)  # since stale
    cli.record_execution(profile, plan, _summary(["a", "b", "c", "x"]), 784.0, tmp_path)
    cli.record_execution(profile, plan, _summary([], "skipped"), 3.0, tmp_path)  # no work
    cli.record_execution(profile, plan, _summary(["d"]), 48.0, tmp_path)
    timing = report.pipeline_timing(tmp_path, "smoke", {"a", "b", "c", "d", "e"})
    assert timing["wall_s"] == 48.0 and timing["runs_executed"] == 1  # the last execution
    assert timing["results_wall_s"] == 784.0 + 48.0
    assert (timing["results_executions"], timing["results_runs_covered"]) == (2, 4)
    assert timing["results_runs"] == 5
    assert len(io.read_json(tmp_path / report.TIMING_FILE)["executions"]) == 3
    assert report.pipeline_timing(tmp_path, "mini", {"a"}) is None  # another profile's file
    assert report.pipeline_timing(tmp_path, "smoke")["results_executions"] == 0  # no costs


def test_index_shows_both_times(tmp_path):
    bundle = make_fake_bundle(tmp_path / "bundle")
    costs = pd.read_csv(bundle / "costs.csv")
    profile = io.read_json(bundle / "provenance.json").get("profile", "mini")
    ids = list(costs["run_id"].astype(str))
    site = tmp_path / "site"
    site.mkdir()
    prof = params.load_profile("smoke")
    prof.profile = profile
    older = dict(profile=profile, wall_s=1.0, runs_executed=1, runs_total=2, executor="local")
    older.update(workers=1, finished="2026-01-01 00:00 UTC")  # written before `executions`
    io.atomic_write_json(site / report.TIMING_FILE, older)
    html = report.render_index(bundle, site / "index.html").read_text()  # older file layout
    assert "Wall time that produced" not in html and "Last pipeline execution" in html
    cli.record_execution(prof, ids, _summary(ids[:-3]), 784.0, site)
    cli.record_execution(prof, ids, _summary(ids[-3:]), 48.0, site)
    html = report.render_index(bundle, site / "index.html").read_text()
    text = " ".join(html.split())
    assert "Wall time that produced these results: <b>13.9 min</b>" in text
    assert "of the 2 pipeline execution(s)" in text
    assert f"({len(ids)} of the {len(ids)} runs behind the results)" in text
    assert "Last pipeline execution: <b>0.8 min</b>" in text
