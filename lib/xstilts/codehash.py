"""The code a run executes: the import closure of its notebook inside ``lib/xstilts``.

A run id must change when the code that produced its numbers changes, and only then: editing
a template, the CSS or the claims registry must not re-queue hours of training, while editing
``train.py`` must re-queue every training run. So the hash of a run covers the ``xstilts``
modules its notebook imports, followed transitively through their own imports (static
``import`` statements anywhere in a module, including the lazy ones inside functions), plus
the package ``__init__`` files those imports execute and the resource files those modules
name. Nothing in ``lib/xstilts`` imports by computed string (checked by a unit test), so the
static closure is the executed closure, less the driver modules (``DRIVER_MODULES``).
"""

from __future__ import annotations

import ast
import hashlib
import json
from functools import cache
from pathlib import Path

from xstilts import paths

PACKAGE = "xstilts"

# Modules of the driver, not of a run: ``pipeline`` plans and launches notebooks (its effect
# on a run reaches it through the resolved params, which the run id hashes directly) and
# ``report`` renders the finished notebook to HTML (presentation). A notebook reaches them
# only through ``kernel``'s stand-alone bootstrap, which builds upstream runs when a phase
# notebook is opened by hand, so their own imports are not followed.
DRIVER_MODULES = frozenset({"xstilts.pipeline", "xstilts.report"})


def _module_file(module: str) -> Path | None:
    """The source file of an ``xstilts`` module or package, or None if there is none."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = paths.LIB.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(file: Path) -> str:
    rel = file.relative_to(paths.LIB).with_suffix("")
    parts = [PACKAGE, *rel.parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(tree: ast.AST, current: str, is_package: bool) -> set[str]:
    """Dotted names of every module an AST imports (``from a import b`` yields a and a.b)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = current.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] == PACKAGE}


def _with_parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def module_closure(roots: set[str]) -> list[Path]:
    """Source files of ``roots`` and of every ``xstilts`` module they import, transitively."""
    seen: dict[Path, None] = {}
    todo = [m for root in roots for m in _with_parents(root)]
    while todo:
        module = todo.pop()
        if module in DRIVER_MODULES:
            continue
        file = _module_file(module)
        if file is None or file in seen:
            continue
        seen[file] = None
        tree = ast.parse(file.read_text(encoding="utf-8"))
        name = _module_name(file)
        for module in _imported_modules(tree, name, file.name == "__init__.py"):
            todo.extend(_with_parents(module))
    return sorted(seen)


def _resources_named_by(sources: list[Path]) -> list[Path]:
    """Non-Python files of ``lib/xstilts`` whose file name appears in one of ``sources``."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in sources)
    return sorted(
        p
        for p in paths.LIB.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
        if p.name in text
    )


def notebook_imports(notebook: Path) -> set[str]:
    """The ``xstilts`` modules imported by a notebook's code cells."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    source = "\n".join(
        "".join(c.get("source", "")) for c in nb.get("cells", []) if c["cell_type"] == "code"
    )
    # Parameters cells hold literals only, but a notebook may use IPython magics: drop them.
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    return _imported_modules(ast.parse("\n".join(lines)), "__main__", False)


@cache
def executed_files(notebook: Path) -> tuple[Path, ...]:
    """Every ``lib/xstilts`` file a notebook's run executes or reads (sorted)."""
    sources = module_closure(notebook_imports(notebook))
    return tuple(sorted({*sources, *_resources_named_by(sources)}))


@cache
def code_version(notebook: Path) -> str:
    """Hash of the files in ``executed_files(notebook)``, relative names included."""
    h = hashlib.sha256()
    for p in executed_files(Path(notebook)):
        h.update(str(p.relative_to(paths.LIB)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]
