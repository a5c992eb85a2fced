"""How much of the retrieval loss after intermediate training is down to the read-out depth.

Every retrieval run records its score at each ``hidden_states`` index
(``metrics.json["retrieval_per_layer"]``) and the layer its rule chose (in ``mini``: on the
dev split). For each trained run and the untrained run of the same model and seed
(setting ``none``), with ``U`` / ``T`` the untrained / trained test score at a layer and
``u`` / ``t`` the layers the two runs chose:

- ``loss``: ``U(u) - T(t)``, what intermediate training costs as reported;
- ``loss_at_untrained_layer``: ``U(u) - T(u)``, the cost if the read-out stayed at ``u``;
- ``recovered_by_layer``: ``T(t) - T(u)``, the part that re-choosing the layer (on dev)
  gives back, i.e. the part due to the read-out depth.

All choices are made on dev; the test scores at every layer are only described.
"""

from __future__ import annotations

import pandas as pd

from xstilts import runs

_KEYS = ["model", "seed", "task"]


def layer_table(target_dirs) -> pd.DataFrame:
    """One row per (retrieval run, layer): test and dev score, and whether it was chosen."""
    rows = []
    for d in target_dirs:
        m = runs.read_metrics(d)
        per_layer = m.get("retrieval_per_layer") if m.get("status") == "ok" else None
        for layer, s in (per_layer or {}).items():
            rows.append(
                {
                    **{k: m.get(k) for k in ("model", "params_m", "setting", "mode", "seed")},
                    "task": m.get("task"),
                    "layer": int(layer),
                    "test": s.get("test"),
                    "dev": s.get("dev"),
                    "chosen": int(layer) == m.get("retrieval_layer"),
                }
            )
    return pd.DataFrame(rows)


def _at(frame: pd.DataFrame, layer: int) -> float | None:
    hit = frame[frame["layer"] == layer]["test"]
    return float(hit.iloc[0]) if len(hit) and pd.notna(hit.iloc[0]) else None


def depth_effect(layers: pd.DataFrame) -> pd.DataFrame:
    """Decompose each trained run's retrieval loss (see the module docstring).

    Returns:
        One row per trained retrieval run: model, setting, mode, seed, task, the chosen
        layers ``untrained_layer`` / ``trained_layer``, ``loss``,
        ``loss_at_untrained_layer`` and ``recovered_by_layer``.

    """
    if not len(layers):
        return pd.DataFrame()
    out = []
    base = layers[layers["setting"] == "none"]
    for (model, seed, task), untrained in base.groupby(_KEYS):
        u = int(untrained[untrained["chosen"]]["layer"].iloc[0])
        u_score = _at(untrained, u)
        trained = layers[
            (layers["model"] == model)
            & (layers["seed"] == seed)
            & (layers["task"] == task)
            & (layers["setting"] != "none")
        ]
        for (setting, mode), run in trained.groupby(["setting", "mode"]):
            t = int(run[run["chosen"]]["layer"].iloc[0])
            t_at_t, t_at_u = _at(run, t), _at(run, u)
            if None in (u_score, t_at_t, t_at_u):
                continue
            out.append(
                {
                    "model": model, "setting": setting, "mode": mode, "seed": seed,
                    "task": task, "untrained_layer": u, "trained_layer": t,
                    "loss": u_score - t_at_t,
                    "loss_at_untrained_layer": u_score - t_at_u,
                    "recovered_by_layer": t_at_t - t_at_u,
                }
            )  # fmt: skip
    return pd.DataFrame(out)
