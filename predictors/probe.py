"""A linear probe: is the knowledge of how people play still inside a model whose output no longer shows it?

When an aligned model describes people worse than its base twin, either alignment
removed what the model knew, or it only changed what the model says.  A probe —
a regularised logistic regression from the model's hidden state at the decision
(the residual stream of one layer at the prompt's last token) to the person's
action — tells them apart: if it reads human choices from the aligned model as
well as from the base model, the knowledge is there and only the output moved
(Alain & Bengio 2016, "Understanding intermediate layers using linear classifier
probes"; Hewitt & Liang 2019, "Designing and interpreting probes with control
tasks", for why a probe needs controls).

- Cross-fitted over groups of participants (``fold_of``, as every fitted model here):
  nobody is predicted by a probe trained on them.  The regularisation strength is
  chosen by an inner cross-validation, also grouped by participant, on held-out
  log-loss (scikit-learn's ``LogisticRegressionCV``, on standardised states projected on
  their first ``components`` principal components, all fitted on the training folds).
- More than two actions: the multinomial form.  Aggregate data (a share of people per
  decision): each decision is two weighted rows, so the probe fits the rates.
- Controls (``control:``): ``shuffled`` trains on labels shuffled within cell (family ×
  game × round) — the probe's floor, what a high-dimensional regression finds in noise;
  ``random-init`` probes a randomly initialised model of the same architecture (seed
  0) — what any representation of the prompt text allows.  The family's
  ``feature-logit`` on its hand-made history features is the third control: what the
  visible history alone explains.

One probe is one layer, so its predictions are an ordinary table that every metric,
pair statistic and report panel applies to; ``sim.config`` expands ``layers: [...]``
into one probe per layer, all sharing one forward pass.  The hidden states are kept
in the run directory (``hidden/``, float16, ``predictors.llm.hidden_store``), so
probes are refitted without running the model again.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from envs.records import DecisionPoint
from predictors.base import Prediction, Predictor
from predictors.feature_logit import fold_of

CONTROLS = ("none", "shuffled", "random-init")
#: the inverse regularisation strengths the inner cross-validation chooses among
C_GRID = tuple(float(c) for c in np.logspace(-4, 0, 5))
#: principal components of the standardised states the regression sees.  Measured on the repeated games
#: (gemma-3-270m, middle block, 10 folds): r with people 0.543 with all 640 dimensions, 0.543 with 128, 0.542
#: with 64; 95 s, 16 s and 8 s per probe on 2 CPU cores (lbfgs needs many iterations on wide, nearly separable
#: data): the projection costs no accuracy and keeps an 8B model's 4,096-wide states tractable.
COMPONENTS = 128
#: probability given to an action no training decision of the fold took (then renormalised)
FLOOR = 1e-4


def probe_name(model: str, layer: float | int, control: str = "none") -> str:
    """How a probe is called in tables and ``pairs:``: ``probe:<model>:<layer>[:<control>]``."""
    return f"probe:{model}:{layer}" + ("" if control == "none" else f":{control}")


def shuffle_within_cells(labels: np.ndarray, cells: Sequence[tuple], rng: np.random.Generator) -> np.ndarray:
    """The labels permuted among the decisions of each cell: the marginal rates of a cell stay, any link
    between a decision's hidden state and its own label is broken."""
    out = labels.copy()
    index: dict[tuple, list[int]] = {}
    for i, c in enumerate(cells):
        index.setdefault(c, []).append(i)
    for rows in index.values():
        rows = np.array(rows)
        out[rows] = labels[rng.permutation(rows)]
    return out


def _training_rows(dps: Sequence[DecisionPoint], x: np.ndarray, labels: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(states, labels, weights, row -> decision) to fit on: one row per individual decision; two weighted
    rows (the affirmative action and the other one) per aggregate decision, so the probe fits the rate."""
    xs, ys, ws, src = [], [], [], []
    for i, dp in enumerate(dps):
        if dp.human_rate is None:
            xs.append(i), ys.append(labels[i]), ws.append(1.0), src.append(i)
            continue
        n = float(dp.n_people or 1)
        other = next(a for a in dp.legal_actions if a != dp.affirmative)
        for action, share in ((dp.affirmative, dp.human_rate), (other, 1.0 - dp.human_rate)):
            if share > 0:
                xs.append(i), ys.append(action), ws.append(share * n), src.append(i)
    rows = np.array(xs)
    return x[rows], np.array(ys, dtype=object), np.array(ws), np.array(src)


def fit_probe(x: np.ndarray, y: np.ndarray, weight: np.ndarray, groups: np.ndarray, inner_folds: int,
              components: int | None = COMPONENTS, max_iter: int = 500):
    """Standardise, project on the first ``components`` principal components (None: keep every dimension),
    then a logistic regression whose L2 strength is chosen on held-out log-loss by a cross-validation over
    ``groups`` (participants); returns the fitted scikit-learn pipeline.  Everything is fitted on the
    training rows given, so a fold's projection never saw its test participants."""
    from sklearn.decomposition import PCA
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    k = min(inner_folds, len(np.unique(groups)))
    if k < 2:
        raise ValueError("a probe needs training decisions of at least 2 participants")
    splits = list(GroupKFold(n_splits=k).split(x, y, groups))
    steps = [StandardScaler()]
    if components and components < min(x.shape):
        steps.append(PCA(components, random_state=0))
    model = make_pipeline(*steps, LogisticRegressionCV(Cs=list(C_GRID), cv=splits, scoring="neg_log_loss",
                                                                 max_iter=max_iter))
    with warnings.catch_warnings():  # scikit-learn's notices of coming API changes are not the user's concern
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", FutureWarning)
        model.fit(x, y, logisticregressioncv__sample_weight=weight)
    return model


class Probe(Predictor):
    """A cross-fitted linear probe of one layer of a language model (see the module docstring)."""

    category = "probe"
    reads_prompt = True
    batch_size = 100_000

    def __init__(self, model: str, layer: float | int = 1.0, layers: Sequence[float | int] | None = None,
                 control: str = "none", folds: int = 10, inner_folds: int = 3,
                 components: int | None = COMPONENTS, prompt=None, format: str = "auto",
                 system: str | None = None, engine: str = "trie", device: str = "auto", seed: int = 0,
                 name: str | None = None, progress: bool = True):
        if control not in CONTROLS:
            raise ValueError(f"unknown control {control!r}; choose from {CONTROLS}")
        if folds < 2:
            raise ValueError("a probe needs at least 2 folds (a person is never in their own training set)")
        self.layers = list(layers) if layers else [layer]
        if layer not in self.layers:
            raise ValueError(f"layer {layer!r} is not among layers {self.layers}")
        from predictors.llm.predictor import LLMPredictor  # torch: imported only when a probe is built

        self.model, self.layer, self.control = model, layer, control
        self.folds, self.inner_folds, self.seed = int(folds), int(inner_folds), int(seed)
        self.components = int(components) if components else None
        self.llm = LLMPredictor(model, format=format, prompt=prompt, system=system, engine=engine, device=device,
                                weights="random" if control == "random-init" else "pretrained", progress=progress)
        self.name = name or probe_name(model, layer, control)
        self.run_dir: Path | None = None
        self.states = None  # predictors.llm.hidden_store.HiddenStates, once fitted
        self._probs: dict[str, tuple[dict[str, float], dict[str, Any]]] = {}

    @property
    def progress(self) -> bool:
        return self.llm.progress

    @progress.setter
    def progress(self, value: bool) -> None:
        self.llm.progress = value

    def bind_run(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)

    def validate(self, decisions: Sequence[DecisionPoint]) -> None:
        self.llm.validate(decisions)

    def _check_folds(self, decisions: Sequence[DecisionPoint]) -> None:
        """Fail before the model runs where cross-fitting is impossible: a family whose participants all fall
        in one fold has nobody to train on."""
        folds: dict[str, set[int]] = {}
        for dp in decisions:
            folds.setdefault(dp.family, set()).add(fold_of(dp.participant_id, self.folds))
        lone = sorted(f for f, ks in folds.items() if len(ks) < 2)
        if lone:
            raise ValueError(f"{self.name}: every participant of {', '.join(lone)} falls in one of the {self.folds} "
                             "folds, so nobody is left to train a probe on")

    def fit(self, decisions: Sequence[DecisionPoint]) -> None:
        from predictors.llm.hidden_store import load_or_compute

        self._check_folds(decisions)
        self.fit_states(decisions, load_or_compute(self.llm, decisions, self.layers, self.run_dir))

    def fit_states(self, decisions: Sequence[DecisionPoint], states) -> None:
        """Fit on given hidden states (a ``HiddenStates`` covering ``decisions``): what ``fit`` does once the
        model has run, and how a user refits probes on states kept from an earlier run."""
        self._check_folds(decisions)
        self.states = states
        block = states.block(self.layer)
        x_all = states.layer(block, [dp.decision_id for dp in decisions])
        self._probs = {}
        by_family: dict[str, list[int]] = {}
        for i, dp in enumerate(decisions):
            by_family.setdefault(dp.family, []).append(i)
        for family, idx in by_family.items():
            dps = [decisions[i] for i in idx]
            x = x_all[idx].astype(np.float32)
            labels = np.array([dp.human_action for dp in dps], dtype=object)
            fold = np.array([fold_of(dp.participant_id, self.folds) for dp in dps])
            people = np.array([dp.participant_id for dp in dps])
            cells = [(dp.family, dp.game, dp.round) for dp in dps]
            for k in np.unique(fold):
                train = np.flatnonzero(fold != k)
                y = labels[train]
                if self.control == "shuffled":
                    y = shuffle_within_cells(y, [cells[i] for i in train],
                                             np.random.default_rng([self.seed, int(k)]))
                xs, ys, ws, src = _training_rows([dps[i] for i in train], x[train], y)
                if len(set(ys)) < 2:  # everyone in the training folds did the same: that is the prediction
                    model = None
                else:
                    model = fit_probe(xs, ys, ws, people[train][src], self.inner_folds, self.components)
                test = np.flatnonzero(fold == k)
                proba = model.predict_proba(x[test]) if model is not None else None
                classes = list(model.classes_) if model is not None else [ys[0]]
                c = float(np.ravel(model[-1].C_)[0]) if model is not None else float("nan")
                for row, i in enumerate(test):
                    dp = dps[i]
                    got = dict(zip(classes, proba[row])) if proba is not None else {classes[0]: 1.0}
                    p = {a: max(float(got.get(a, 0.0)), FLOOR) for a in dp.legal_actions}
                    z = sum(p.values())
                    self._probs[dp.decision_id] = ({a: v / z for a, v in p.items()},
                                                   {"fold": int(k), "layer": block, "C": c})

    def predict(self, batch: Sequence[DecisionPoint]) -> list[Prediction]:
        out = []
        for dp in batch:
            if dp.decision_id not in self._probs:
                raise RuntimeError(f"{self.name}: decision {dp.decision_id} was not in the decisions it was fitted on")
            probs, diag = self._probs[dp.decision_id]
            out.append(Prediction(dp.decision_id, probs, diag))
        return out

    def describe(self) -> dict[str, Any]:
        extra = {}
        if self.states is not None:
            extra = {"block": self.states.block(self.layer), "depth": self.states.depth,
                     "hidden_states": self.states.describe()}
        return {**super().describe(), "model": self.model, "layer": self.layer, "layers": self.layers,
                "control": self.control, "folds": self.folds, "inner_folds": self.inner_folds,
                "components": self.components, "C_grid": list(C_GRID),
                "seed": self.seed, "llm": self.llm.describe(), **extra}
