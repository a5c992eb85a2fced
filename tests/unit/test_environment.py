"""requirements.txt and environment.yml describe the same pinned environment."""

import re

import yaml

from xstilts import paths


def _pins(lines):
    out = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = re.split(r"==", line)
            out[name.lower()] = version
    return out


def test_requirements_and_environment_yml_in_sync():
    req = _pins((paths.ROOT / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((paths.ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert _pins(pip) == req
    assert "python=3.11" in env["dependencies"]


def test_torch_pinned_with_everything_that_needs_it():
    req = _pins((paths.ROOT / "requirements.txt").read_text().splitlines())
    assert req["torch"] == "2.13.0"
    assert {"accelerate", "transformers"} <= set(req)
    assert all(v for v in req.values())  # every line pinned with ==


def test_no_rfc3987_grammar_compiled_at_nbformat_import():
    # `make setup` uninstalls rfc3987-syntax (Makefile): with it, importing nbformat
    # (jsonschema) compiles 38 lark grammars, 2.5 s in every invoke call and sweep worker.
    import importlib.util

    assert importlib.util.find_spec("rfc3987_syntax") is None
