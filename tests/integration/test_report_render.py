"""The HTML index renders from an analysis bundle and displays cleanly in Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # bundle_fixture sits beside this file
import bundle_fixture  # noqa: E402
from bundle_fixture import make_fake_bundle  # noqa: E402

from xstilts import report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
EVIL = "<script>alert('x')</script>"


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.srcs.append(dict(attrs)["src"])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, Path]:
    bundle = make_fake_bundle(tmp_path_factory.mktemp("bundle"))
    claims = json.loads((bundle / "claims.json").read_text())
    claims[0]["claim"] = f"Injected {EVIL} text"
    (bundle / "claims.json").write_text(json.dumps(claims))
    out = report.render_index(bundle, tmp_path_factory.mktemp("site") / "index.html")
    return bundle, out


def test_index_lists_every_claim_with_statuses(rendered):
    bundle, out = rendered
    html = out.read_text()
    claims = json.loads((bundle / "claims.json").read_text())
    assert len(claims) == 9
    for claim in claims:
        row = re.search(rf'<tr id="claim-{claim["id"]}">(.*?)</tr>', html, re.S)
        assert row, claim["id"]
        statuses = re.findall(r'class="status ([a-z-]+)"', row.group(1))
        expected = [claim[s]["status"].replace(" ", "-") for s in ("published", "run")]
        assert statuses == expected


def test_index_escapes_claim_text(rendered):
    html = rendered[1].read_text()
    assert EVIL not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_index_sections_and_stand_in_banner(rendered):
    html = rendered[1].read_text()
    for anchor in ("summary", "claims", "main", "heatmaps", "languages", "scale", "costs", "runs"):
        assert f'id="{anchor}"' in html
    assert "Stand-in results (mini profile)" in html
    assert html.count("<details") >= len(bundle_fixture.TASKS)  # one per target task at least
    assert "tatoeba" in html and "avg covers" in html


def test_index_shows_real_annotated_test_sets_apart(rendered):
    bundle, out = rendered
    html = out.read_text()
    section = html.split("<h3>Real annotated test sets</h3>", 1)[1].split("</section>", 1)[0]
    assert "udpos:tr" in section
    real = pd.read_csv(bundle / "real_test_sets.csv")
    mean = real.groupby(["model", "setting", "mode"])["score"].mean()
    for value in mean:
        assert f"{value:.1f}" in section  # one decimal, from the run records


def test_index_images_and_links_resolve(rendered):
    bundle, out = rendered
    parser = _Images()
    parser.feed(out.read_text())
    assert len(parser.srcs) == len(bundle_fixture.MODELS) + 1  # heatmaps + the scale figure
    for src in parser.srcs:
        assert not src.startswith(("/", "file:")), "image paths must be relative"
        assert (out.parent / src).stat().st_size > 1000
    hrefs = re.findall(r'<a href="([^"#:]+\.html)">', out.read_text())
    assert len(hrefs) == len(pd.read_csv(bundle / "runs.csv"))
    assert all((out.parent / h).is_file() for h in hrefs)


def test_index_without_optional_files(tmp_path):
    bundle = make_fake_bundle(tmp_path / "b", profile="full")
    for name in ("scores.csv", "scale_summary.csv", "scale_group.csv", "scale_trend.csv",
                 "costs.csv", "runs.csv", "figures/gap_vs_scale.png"):  # fmt: skip
        (bundle / name).unlink()
    html = report.render_index(bundle, tmp_path / "site" / "index.html").read_text()
    assert "Stand-in results" not in html
    assert "no scale study" in html


def test_missing_required_file_names_it(tmp_path):
    bundle = make_fake_bundle(tmp_path / "b")
    (bundle / "xtreme.csv").unlink()
    with pytest.raises(FileNotFoundError, match="xtreme.csv"):
        report.render_index(bundle, tmp_path / "index.html")


def test_phase_html_hides_code(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("secret_code_marker = 1\nprint('visible output')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="visible output\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Phase title"), cell]
    path = tmp_path / "run.ipynb"
    nbformat.write(nb, path)
    hidden = report.render_phase_html(path, tmp_path / "hidden.html").read_text()
    shown = report.render_phase_html(path, tmp_path / "shown.html", hide_code=False).read_text()
    assert "visible output" in hidden and "Phase title" in hidden
    assert "secret_code_marker" not in hidden
    assert "secret_code_marker" in shown


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (run scripts/setup-system.sh)")
def test_index_in_headless_chromium(rendered, tmp_path):
    _, out = rendered
    shot = tmp_path / "index.png"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,2000",
        f"--screenshot={shot}",
        out.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    # The page has no scripts, so any console message (Chromium logs them as
    # "INFO:CONSOLE" whatever their level) means something went wrong.
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, "\n".join(console)
    assert shot.is_file(), proc.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000  # a blank 1280x2000 page is a few kB
    shutil.copyfile(shot, Path(out.parent) / "screenshot.png")  # kept for inspection


def test_index_shows_acceptance_checks_with_status(rendered):
    html = rendered[1].read_text()
    table = html.split('<table id="acceptance">', 1)[1].split("</table>", 1)[0]
    checks = pd.read_csv(rendered[0] / "acceptance.csv")
    assert table.count("<tr>") == 1 + len(checks)
    for row in checks.itertuples():
        css = {"pass": "supported", "fail": "contradicted"}.get(row.status, "")
        assert f'<span class="status {css}">{row.status}</span>' in table
        assert str(row.value) in table


def test_ran_column_counts_the_last_execution_from_the_pipeline_record():
    costs = pd.DataFrame(
        {
            "phase": ["data", "target", "target"],
            "run_id": ["d1", "t1", "t2"],
            "model": ["m"] * 3,
            "setting": ["none"] * 3,
            "task": ["", "xnli", "tatoeba"],
            "status": ["done"] * 3,
            "wall_s": [10.0, 20.0, 30.0],
            "device": ["cpu"] * 3,
            "device_hours": [0.0, 0.01, 0.01],
        }
    )
    timing = {"executions": [{"run_ids": ["d1", "t1", "t2"]}, {"run_ids": ["t2"]}]}
    phases, total = report.cost_summary(costs, report.last_execution_ids(timing))
    assert {p["phase"]: p["ran"] for p in phases} == {"data": 0, "target": 1}
    assert total["ran"] == 1 and total["runs"] == 3
    _, unknown = report.cost_summary(costs, report.last_execution_ids(None))
    assert unknown["ran"] is None  # no record: say nothing rather than 0
