"""A failed sweep closes with the command that retries it, in the form the user typed."""

from __future__ import annotations

import subprocess

import pytest

from xstilts import cli, paths, pipeline, runs, sweep


def _failed_summary(plan):
    steps = [pipeline.StepResult(plan[0], "ran", "never run")]
    steps += [pipeline.StepResult(plan[1], "FAILED", "OSError: boom")]
    steps += [pipeline.StepResult(r, "blocked", "upstream") for r in plan[2:]]
    return pipeline.Summary(steps)


@pytest.fixture()
def failing_sweep(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(cli, "preflight", lambda profile: None)
    monkeypatch.setattr(sweep, "run_profile", lambda profile, plan, retry: _failed_summary(plan))
    monkeypatch.setattr(
        pipeline, "execute", lambda plan, retry_failed, only_phase: _failed_summary(plan)
    )
    monkeypatch.delenv(cli.RETRY_ENV, raising=False)


def test_invoke_users_get_their_invoke_line(failing_sweep, capsys):
    assert cli.reproduce("smoke", with_paper=False) == 1
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == (
        "1 run(s) failed, 5 blocked; finished runs are kept. Retry the failed ones with: "
        "invoke reproduce --profile smoke --no-paper --retry-failed"
    )


def test_phase_users_get_the_phase_line(failing_sweep, capsys):
    assert cli.phase("smoke", "target") == 1
    out = capsys.readouterr().out
    assert out.rstrip().endswith("invoke phase target --profile smoke --retry-failed")


def test_make_users_get_the_make_line(failing_sweep, capsys, monkeypatch):
    monkeypatch.setenv(cli.RETRY_ENV, "make reproduce RETRY=1")
    assert cli.reproduce("smoke") == 1
    assert (
        capsys.readouterr()
        .out.rstrip()
        .endswith("Retry the failed ones with: make reproduce RETRY=1")
    )


def test_makefile_passes_retry_and_names_itself():
    def dry(*args):
        out = subprocess.run(
            ["make", "-n", "--no-print-directory", "reproduce", *args],
            cwd=paths.ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return " ".join(out.replace("\\\n", " ").split())

    assert "XSTILTS_RETRY_COMMAND='make reproduce RETRY=1'" in dry()
    assert "invoke reproduce --profile mini --retry-failed" in dry("RETRY=1")
    assert "--retry-failed" not in dry()


def test_failed_run_is_not_retried_without_the_flag(tmp_path, monkeypatch):
    monkeypatch.setenv("XSTILTS_RUNS", str(tmp_path / "runs"))
    _, plan = cli.load("smoke")
    runs.mark_failed(runs.prepare(plan[0]), "boom", None)
    action, why = pipeline.decide(plan[0], retry_failed=False)
    assert action == "fail" and "retry command below" in why
    assert pipeline.decide(plan[0], retry_failed=True)[0] == "run"
