"""xstilts task runner: the table of contents of the pipeline.

Usage (from the repository root, inside the environment that `make setup` builds)::

    invoke reproduce                      # mini profile: all phases, HTML reports, paper PDF
    invoke reproduce --profile smoke      # the two-minute end-to-end check
    invoke reproduce --profile full       # the paper's grid (GPU; models from the HF cache)
    invoke reproduce --retry-failed       # re-queue runs that failed before
    invoke plan --profile full            # dry run: every run of the plan + a cost estimate
    invoke status --profile mini          # each run: done / stale (why) / partial / failed / pending
    invoke phase intermediate --profile mini   # one phase (upstream runs must be done)
    invoke report --profile mini          # re-render runs/report/index.html (and the paper)
    invoke paper --profile mini           # rebuild paper/build/paper.pdf from the results
    invoke publish-reference --profile cpu-real   # finished run -> results/cpu-real/ (no data)
    invoke test                           # the default test suite (< 15 minutes)
    invoke test --slow                    # also the slow tests
    invoke bench                          # training + retrieval benchmarks -> bench/*.json, *.md
    invoke clean --profile smoke          # delete that profile's runs (asks nothing; be sure)
    invoke lint                           # ruff check + format check
    invoke lab                            # JupyterLab on notebooks/ (defaults run on smoke)
    invoke gpu-check [--profile smoke]    # the rehearsal on CUDA in bf16 against the CPU run
"""

import os
import sys

from invoke import task

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))


def _run(fn, *args, **kwargs):
    from xstilts.params import ParamsError

    try:
        code = fn(*args, **kwargs)
    except (ParamsError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    if code:
        sys.exit(code)


@task(
    help={
        "profile": "smoke | mini | full | path/to/profile.yaml",
        "retry_failed": "re-queue runs that failed in an earlier invocation",
        "no_paper": "skip the PDF build",
    }
)
def reproduce(c, profile="mini", retry_failed=False, no_paper=False):
    """Run every phase of a profile, then render the HTML index and the paper."""
    from xstilts import cli

    _run(cli.reproduce, profile, retry_failed=retry_failed, with_paper=not no_paper)


@task(help={"name": "data | intermediate | target | analysis", "profile": "profile name"})
def phase(c, name, profile="mini", retry_failed=False):
    """Run one phase of a profile."""
    from xstilts import cli

    _run(cli.phase, profile, name, retry_failed=retry_failed)


@task(help={"profile": "profile name"})
def status(c, profile="mini"):
    """Show each run of the plan: done / stale (and why) / partial / failed / pending."""
    from xstilts import cli

    _run(cli.status, profile)


@task(help={"profile": "profile name"})
def plan(c, profile="mini"):
    """Dry run: print the plan with a cost estimate; runs nothing."""
    from xstilts import cli, params, sweep

    def plan_and_left_out(name: str) -> int:
        code = sweep.print_plan(name)
        cli.print_left_out(params.load_profile(name))  # cells not planned, with the reason
        return code

    _run(plan_and_left_out, profile)


@task(help={"profile": "profile name", "no_paper": "only the HTML index"})
def report(c, profile="mini", no_paper=True):
    """Re-render the HTML index from the finished analysis run."""
    from xstilts import cli

    _run(cli.report_only, profile, with_paper=not no_paper)


@task(help={"profile": "profile name"})
def paper(c, profile="mini"):
    """Rebuild the paper PDF from the finished analysis run."""
    from xstilts import cli

    _run(cli.report_only, profile, with_paper=True)


@task(
    help={
        "profile": "profile name or YAML path",
        "out": "target folder (default results/<profile>/)",
    }
)
def publish_reference(c, profile="cpu-real", out=""):
    """Publish the finished analysis run as reference results: bundle, index, run records."""
    from xstilts import reference_results

    _run(lambda: reference_results.publish(profile, out or None) and 0)  # exit 0 on success


@task(help={"slow": "also run tests marked slow", "k": "pytest -k expression"})
def test(c, slow=False, k=""):
    """Run the test suite (default: fast tests only)."""
    marker = "-m 'not gpu and not rehearsal'" if slow else ""
    kexpr = f"-k '{k}'" if k else ""
    # The slowest tests are listed at the end: CI time is a budget, watched from these.
    c.run(f"{sys.executable} -m pytest -q --durations=15 {marker} {kexpr}", pty=False)


@task
def bench(c):
    """Benchmarks: trainer vs HF Trainer vs bare loop, retrieval vs bare matmul."""
    from xstilts import benchmarks

    _run(benchmarks.main)


@task(help={"profile": "profile whose runs to delete"})
def clean(c, profile="smoke"):
    """Delete the runs of one profile (all phases), the report and the paper build."""
    from xstilts import sweep

    _run(sweep.clean, profile)


@task(
    help={
        "profile": "profile to run on both devices (default rehearsal-ci, the CI cut of the rehearsal; smoke is quicker)",
        "store": "folder of the two run stores (default runs/_gpu_check)",
        "cpu_store": "reference CPU run store made elsewhere (its finished runs are reused)",
        "tolerance": "largest loss-curve distance, relative to the CPU curve (default 0.10)",
    }
)
def gpu_check(c, profile="rehearsal-ci", store="", cpu_store="", tolerance=0.10):
    """Run a profile on CUDA in bf16 and on the CPU; the same runs finish, loss curves close."""
    from xstilts import gpu_check as check

    _run(check.main, profile, store, cpu_store, tolerance)


@task
def lint(c):
    """ruff check + format check."""
    c.run(f"{sys.executable} -m ruff check . && {sys.executable} -m ruff format --check .")


@task(help={"port": "port of the Jupyter server", "no_browser": "do not open a browser"})
def lab(c, port=8888, no_browser=False):
    """JupyterLab on notebooks/: run any phase notebook with its defaults, or reopen runs/."""
    root = os.path.dirname(os.path.abspath(__file__))
    # Kernels import this checkout's lib/ (a notebook run with its defaults plans the smoke
    # profile and builds its upstream runs in runs/_scratch; xstilts.kernel).
    env = {
        "PYTHONPATH": os.pathsep.join([os.path.join(root, "lib"), os.environ.get("PYTHONPATH", "")])
    }
    browser = " --no-browser" if no_browser else ""
    browser += " --allow-root" if os.geteuid() == 0 else ""  # containers often run as root
    c.run(
        f"{sys.executable} -m jupyterlab --ServerApp.root_dir={root} "
        f"--LabApp.default_url=/lab/tree/notebooks --port={port}{browser}",
        env=env,
        pty=True,
    )
