"""The mini main job end to end on a fresh run store, checked against its acceptance rules.

Slow (about 18 minutes on 2 CPU cores): run by ``.ci/run`` and ``invoke test --slow``.
The time budget itself is a benchmark figure (the index's "Last pipeline execution"),
not an assertion here.
"""

import csv

import pytest

from tests.integration.invoke_runner import invoke, isolated_env


@pytest.mark.slow
def test_mini_main_job_passes_its_acceptance_checks(tmp_path):
    env = isolated_env(tmp_path)
    proc = invoke(["reproduce", "--profile", "mini"], env, timeout=3600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (bundle,) = (tmp_path / "runs" / "analysis").glob("*/bundle")
    with open(bundle / "acceptance.csv") as f:
        checks = list(csv.DictReader(f))
    assert len(checks) == 2
    assert all(c["status"] == "pass" for c in checks), checks
    with open(bundle / "real_test_sets.csv") as f:
        real = {(r["task"], r["lang"]) for r in csv.DictReader(f)}
    assert real == {("udpos", "tr"), ("panx", "ja")}
    index = (tmp_path / "runs" / "report" / "index.html").read_text()
    assert "Real annotated test sets" in index and "Last pipeline execution" in index
    assert (tmp_path / "paper" / "build" / "paper.pdf").stat().st_size > 10_000
