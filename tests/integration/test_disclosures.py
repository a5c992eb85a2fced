"""Protocol deviations derived from params and runs reach the index report and the paper."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # bundle_fixture sits beside this file
from bundle_fixture import make_fake_bundle  # noqa: E402

from xstilts import paper, paths, report, runs
from xstilts.phases import analysis
from xstilts.run_params import AnalysisRunParams


def test_frozen_embeddings_and_random_mlm_head_are_disclosed(tmp_path):
    inter = tmp_path / "runs" / "intermediate" / "x"
    inter.mkdir(parents=True)
    runs.write_metrics(
        inter,
        {"model": "e5-L3", "mlm_head": "random (checkpoint has none)", "warnings": ["budget w"]},
    )
    p = AnalysisRunParams(
        run_dir=str(tmp_path / "a"),
        profile="mini",
        profile_file=str(paths.PARAMS / "mini.yaml"),
        intermediate_dirs=[str(inter)],
    )
    found = analysis.disclosures(p)
    assert any("word-embedding matrix is frozen" in d for d in found)
    assert any("e5-L3" in d and "randomly initialised MLM head" in d for d in found)
    assert "budget w" in found

    bundle = make_fake_bundle(tmp_path / "bundle")
    prov = json.loads((bundle / "provenance.json").read_text())
    prov["disclosures"] = found
    (bundle / "provenance.json").write_text(json.dumps(prov))
    html = report.render_index(bundle, tmp_path / "site" / "index.html").read_text()
    assert "Deviations from the paper" in html and "word-embedding matrix is frozen" in html
    tex = (paper.render_paper(bundle, tmp_path / "gen") / "main.tex").read_text()
    assert "word-embedding matrix is frozen" in tex and "randomly initialised MLM head" in tex
