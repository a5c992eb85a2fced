"""The paper renders from an analysis bundle, builds with latexmk and shows its numbers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # bundle_fixture sits beside this file
from bundle_fixture import make_fake_bundle  # noqa: E402

from xstilts import paper

needs_latex = pytest.mark.skipif(
    shutil.which("latexmk") is None or shutil.which("pdftotext") is None,
    reason="latexmk/pdftotext not installed (run scripts/setup-system.sh)",
)


def _pdf_text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True)
    return out.stdout


def _build(bundle: Path, tmp: Path, name: str) -> str:
    out = paper.render_paper(bundle, tmp / f"{name}-gen")
    return _pdf_text(paper.build_pdf(out, tmp / f"{name}-build"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("paper")
    bundle = make_fake_bundle(tmp / "bundle")
    claims = json.loads((bundle / "claims.json").read_text())
    claims[1]["claim"] = "Special chars: 50% & $x_1$ #2 {braces} ~ ^ \\ <script>"
    (bundle / "claims.json").write_text(json.dumps(claims))
    return bundle, tmp, _build(bundle, tmp, "a")


def test_macro_names_are_letters_only():
    assert paper.macro_name("Gain", "squad_v1", "xnli") == "GainSquadVOneXnli"
    assert paper.macro_name("mini-e5-L12", "BestGain") == "MiniEFiveLOneTwoBestGain"
    with pytest.raises(ValueError):
        paper.macro_name("", "")


def test_latex_escape_and_verbs():
    assert paper.latex_escape("a_b & 5% $") == r"a\_b \& 5\% \$"
    assert paper.signed(-0.04) == "+0.0"
    assert paper.signed(-1.26) == r"\ensuremath{-}1.3"
    assert paper.verb(0.5, 0.1, 0.9) == "improves"
    assert paper.verb(0.5, -0.1, 0.9) == "does not change"
    assert paper.verb(-0.3) == "hurts"


def test_render_writes_every_file(built):
    _, tmp, _ = built
    gen = tmp / "a-gen"
    for name in (
        "macros.tex",
        "table_main.tex",
        "table_claims.tex",
        "table_scale.tex",
        "provenance.tex",
        "main.tex",
        "refs.bib",
        "figures/gains_heatmap.png",
        "figures/gap_vs_scale.png",
    ):
        assert (gen / name).is_file(), name
    macros = (gen / "macros.tex").read_text()
    assert r"\newcommand{\BestGain}{" in macros
    names = re.findall(r"\\newcommand\{\\([A-Za-z]+)\}", macros)
    assert len(names) == len(set(names)) > 100


@needs_latex
def test_pdf_has_claims_and_main_table(built):
    bundle, _, text = built
    flat = " ".join(text.split())
    assert "a Reproduction and a Scale Study" in flat
    claims = json.loads((bundle / "claims.json").read_text())
    table = flat.split("Text (shortened)", 1)[1].split("Limitations", 1)[0]
    for claim in claims:
        for side in ("published", "run"):
            assert claim[side]["status"].split()[0] in table, (claim["id"], side)
    assert "Seed’s own mark" in flat and "not a check by this package" in flat
    # escaped, printed verbatim (the narrow column may wrap it, so token by token)
    for token in ("chars:", "50%", "$x_1$", "#2", "{braces}", "<script>"):
        assert token in flat, token
    assert "xnli udpos bucc2018 tatoeba Avg." in flat
    xtreme = pd.read_csv(bundle / "xtreme.csv")
    base = xtreme.query("model == 'e5-L12' and setting == 'none'")["avg"].iloc[0]
    assert f"{base:.1f}" in flat
    assert "?" not in flat.split("References")[0].replace("(?)", "")  # citations resolved
    real = flat.split("Real annotated test sets.", 1)[1]
    tr = pd.read_csv(bundle / "real_test_sets.csv")
    assert "udpos:tr" in real and f"{tr['score'].iloc[0]:.1f}" in real
    accept = flat.split("Acceptance checks.", 1)[1]
    for row in pd.read_csv(bundle / "acceptance.csv").itertuples():
        assert f"{row.value} — {row.status}" in accept  # from acceptance.csv
    # the scale section states the decision rule and never extrapolates per 10x
    assert "Bonferroni" in flat and "per 10x" not in flat and "10x" not in flat


@needs_latex
def test_pdf_follows_the_bundle(built):
    bundle, tmp, before = built
    scores = pd.read_csv(bundle / "task_scores.csv")
    row = (scores["model"] == "e5-L12") & (scores["setting"] == "none")
    row &= scores["task"] == "udpos"
    assert f"{scores.loc[row, 'score'].iloc[0]:.1f}" in before
    scores.loc[row, "score"] = 97.3
    scores.to_csv(bundle / "task_scores.csv", index=False)
    after = _build(bundle, tmp, "b")
    assert after != before
    assert "97.3" in after and "97.3" not in before


def test_retrieval_sentence_follows_the_sign_of_the_data():
    sign = paper._sign_class
    assert sign(pd.Series([2.0, 3.0])) == "positive"
    assert sign(pd.Series([-53.0, -60.0])) == "negative"
    assert sign(pd.Series([-1.0, 2.0])) == "mixed"
    assert sign(pd.Series([0.01, -0.02])) == "zero"
    template = (paper.paths.PAPER / "main.tex.j2").read_text()
    assert "headline effect" not in template


@needs_latex
def test_pdf_words_follow_the_data(built):
    _, _, text = built
    flat = " ".join(text.split())
    # fixture: retrieval gains are +2 (mnli) and -1 (squad_v1): mixed signs
    assert "the settings disagree in sign" in flat
    assert "shows the paper's headline effect" not in flat


def test_editing_a_paper_template_changes_the_paper_key(tmp_path, monkeypatch):
    """The PDF's up-to-date key covers paper/*.j2: a template edit alone must rebuild it."""
    from xstilts import cli, paths

    (tmp_path / "main.tex.j2").write_text("a")
    (tmp_path / "build").mkdir()  # build output is not a source
    monkeypatch.setattr(paths, "PAPER", tmp_path)
    before = cli._paper_sources_version()
    (tmp_path / "build" / "paper.pdf").write_text("pdf")
    assert cli._paper_sources_version() == before
    (tmp_path / "main.tex.j2").write_text("b")
    assert cli._paper_sources_version() != before
