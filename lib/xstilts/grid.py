"""Which cells of a profile's grid are planned, and which are left out and why.

The plan (``xstilts.pipeline.plan``) crosses intermediate settings with language modes and
target tasks. Not every crossing has data:

- **Translated modes** need machine-translated intermediate data. XTREME's translate-train
  release has it for MNLI and SQuAD v1.1 (``xtreme.TRANSLATE_TRAIN``); any other task only
  where the user supplies translations (``intermediate.translations``). The mini source
  generates (oracle) translations for every task. A multi-task mixture has translated modes
  only when all of its tasks have translations.
- **Licensed data** (CCG: CCGbank, LDC2005T13) cannot be downloaded by a script. A profile
  that lists the task in ``intermediate.skip_if_absent`` plans it out when its files are
  absent; any other profile stops in the data run with a one-line error naming the licence.

Every left-out cell is returned with its reason; ``invoke plan`` and ``invoke reproduce``
print them, and the analysis discloses them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xstilts import paths, xtreme
from xstilts.params import Profile

TRANSLATED_MODES = ("translated", "english+translated")


@dataclass
class Grid:
    """The planned phase-(ii) cells of a profile and what was left out.

    Attributes:
        tasks: Intermediate tasks planned (``intermediate.tasks`` minus absent licensed data).
        cells: ``(setting, tasks, mode)`` of every planned phase-(ii) run, in plan order.
        left_out: One sentence per left-out group of cells, saying why.
    """

    tasks: list[str]
    cells: list[tuple[str, list[str], str]] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def data_root(value: str) -> Path | None:
    """Resolve ``data.root`` / ``data.fallback_root``: None when unset.

    ``xtreme-real`` names the real XTREME folder of the tests and CI (``paths.xtreme_real``);
    a relative path is relative to the repository root (where the notebooks run).
    """
    if not value:
        return None
    if value == "xtreme-real":
        return paths.xtreme_real()
    path = Path(value).expanduser()
    return path if path.is_absolute() else paths.ROOT / path


def data_roots(profile: Profile, task: str) -> list:
    """The sources searched for ``task``: its ``data.sources`` entry, else root then fallback."""
    own = profile.data.sources.get(task)
    if own:
        return [own]
    return [r for r in (data_root(profile.data.root), data_root(profile.data.fallback_root)) if r]


def has_translations(profile: Profile, task: str) -> bool:
    """Whether ``task`` has machine-translated training data under this profile's source."""
    if profile.data.source == "mini":
        return True
    if profile.data.source == "real-split":  # human translations of the items: XNLI only
        from xstilts.data.real_splits import TRANSLATED

        return task in TRANSLATED
    return task in xtreme.TRANSLATE_TRAIN or task in profile.intermediate.translations


def _absent(profile: Profile, task: str) -> bool:
    """A licensed task to plan out: listed in ``skip_if_absent`` and no train file found."""
    if profile.data.source != "real" or task not in profile.intermediate.skip_if_absent:
        return False
    from xstilts.data import loaders

    return loaders.locate(task, "train", "en", data_roots(profile, task)) is None


def grid(profile: Profile) -> Grid:
    """Planned phase-(ii) cells of ``profile`` and the reasons for every left-out cell."""
    inter = profile.intermediate
    out = Grid(tasks=[t for t in inter.tasks if not _absent(profile, t)])
    for t in inter.tasks:
        if t not in out.tasks:
            out.left_out.append(
                f"{t}: every cell (its files are absent and it is in "
                f"intermediate.skip_if_absent): {xtreme.LICENSED_DATA.get(t, 'data absent')}"
            )
    settings = [(t, [t]) for t in out.tasks]
    if inter.multitask and len(out.tasks) >= 2:
        settings.append(("multitask", list(out.tasks)))
    modes = [m for m in inter.modes if m in TRANSLATED_MODES]
    missing = []
    for setting, tasks in settings:
        lacking = [t for t in tasks if not has_translations(profile, t)]
        for mode in inter.modes:
            if mode in TRANSLATED_MODES and lacking:
                continue
            out.cells.append((setting, tasks, mode))
        if modes and lacking:
            missing.append(setting if setting != "multitask" else "multitask (mixes " +
                           ", ".join(lacking) + ")")  # fmt: skip
    for setting, rule in inter.restrict.items():
        only = "; ".join(f"{k} {', '.join(map(str, v))}" for k, v in rule.items())
        out.left_out.append(f"{setting}: trained only for {only} (intermediate.restrict)")
    if missing:
        have = [t for t in out.tasks if has_translations(profile, t)]
        if profile.data.source == "real-split":
            out.left_out.append(
                f"{' and '.join(modes)} for {', '.join(missing)}: the real-split source has "
                "human translations only of the XNLI items behind the mnli slot (planned for "
                f"{', '.join(have) or 'none'})"
            )
            return out
        out.left_out.append(
            f"{' and '.join(modes)} for {', '.join(missing)}: no machine-translated training "
            f"data (XTREME's translate-train covers {', '.join(xtreme.TRANSLATE_TRAIN)}; "
            f"planned for {', '.join(have) or 'none'}); supply <root>/<task>/train/<lang>.jsonl "
            "and name the task in intermediate.translations to add them"
        )
    return out
