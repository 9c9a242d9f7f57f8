"""The two network designs the pipeline can train: ours ("redclump") and the authors' ("paper").

Both predict the same quantities in the same three stages (DESIGN.md): stage 1 Teff and log g
for every star, stage 2 Teff and log g for giants, stage 3 ΔP and Δν for giants. They differ in
the networks:

========================  ================================  =======================================
                          ``redclump`` (default)            ``paper`` (Lucey et al. 2020's code)
========================  ================================  =======================================
networks per stage        one for both targets              one per target
hidden layers             64-64 SiLU                        32-24-16-8 sigmoid
mixture components K      2, 2, 3 (ΔP and Δν share K)       1 for Teff, log g, Δν; 2 for ΔP
input scaling             standardised per feature          min–max, one range for the 13 bands,
                                                            parallax on its own; target min–max
sigma link, init          softplus + floor, PyTorch         exp, Glorot-uniform
optimiser                 minibatch Adam, cosine schedule   full-batch Adam, exponential decay
training stars            the whole train split             a random draw of the authors' number
                                                            (200,000 Teff/log g; 30,000 ΔP/Δν)
uncertainty reported      mixture standard deviation        Σ w σ
========================  ================================  =======================================

The authors ran 10⁶ full-batch steps per network on GPUs; here each network gets a fixed amount
of work (:data:`PAPER_ROW_STEPS`, a few hundred to a thousand steps on the default truth set)
and stops earlier when the validation loss stops improving. Their learning rates, decay rates
and decay steps (those of their public scripts, github.com/mlucey/Kavli, last commit
2019-09-27; ``shared/reference/method.md`` §2.2) are kept in :data:`PAPER_NETWORKS` and
selectable (:func:`paper_schedule`); by default a faster schedule is used because theirs were
made for 10⁶ steps. Their scripts build ``tf.train.exponential_decay`` from a ``global_step``
that is never passed to ``optimizer.minimize``, so the step never advances and the rate they
trained with was constant (``rates="as_run"``); ``rates="as_written"`` applies the decay the
scripts spell out. Their scripts' deviations that are bugs rather than design (the second hidden
layer reading the inputs instead of the first layer in four scripts; a fifth 8-unit layer in the
all-star Teff script) are not reproduced: every paper network is 32-24-16-8.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from redclump.data.schema import BANDS, FEATURES

from .mdn import MDNConfig
from .training import FullBatchSchedule

__all__ = [
    "BUDGET_RATES",
    "NETWORK_SETS",
    "PAPER_HIDDEN",
    "PAPER_NETWORKS",
    "PAPER_ROW_STEPS",
    "REDCLUMP_COMPONENTS",
    "STAGE_TARGETS",
    "PaperNetwork",
    "paper_config",
    "paper_max_steps",
    "paper_schedule",
    "redclump_config",
]

#: ``paper_minibatch`` is the authors' design (architecture, loss, scaling, training-set sizes)
#: trained by our minibatch optimiser (:func:`redclump.core.training.train_mdn`) with early
#: stopping: it separates what their design gives from what their optimiser reaches on 2 cores.
NETWORK_SETS: tuple[str, ...] = ("redclump", "paper", "paper_minibatch")
#: Epochs at most for the ``paper_minibatch`` set; training stops earlier after
#: :data:`PAPER_MINIBATCH_PATIENCE` epochs without a better validation loss.
PAPER_MINIBATCH_EPOCHS = 300
PAPER_MINIBATCH_PATIENCE = 15
STAGE_TARGETS: dict[str, tuple[str, ...]] = {
    "stage1": ("teff", "logg"),
    "stage2": ("teff", "logg"),
    "stage3": ("deltap", "deltanu"),
}
#: Mixture components of our one-network-per-stage design.
REDCLUMP_COMPONENTS: dict[str, int] = {"stage1": 2, "stage2": 2, "stage3": 3}
PAPER_HIDDEN: tuple[int, ...] = (32, 24, 16, 8)


@dataclass(frozen=True)
class PaperNetwork:
    """One of the authors' networks: its target, K, the optimiser settings of its script, and
    its ``num_train``, the training stars it drew (fewer when the train split is smaller)."""

    script: str
    target: str
    n_components: int
    learning_rate: float
    decay_rate: float
    decay_steps: int
    staircase: bool
    n_train: int


#: The authors' six networks by stage, in the order of :data:`STAGE_TARGETS`.
PAPER_NETWORKS: dict[str, tuple[PaperNetwork, ...]] = {
    "stage1": (
        PaperNetwork("T_PDM_p_all.py", "teff", 1, 1e-3, 1e-2, 1000, staircase=True, n_train=200_000),
        PaperNetwork("g_PDM_p_all.py", "logg", 1, 5e-4, 1e-2, 1000, staircase=True, n_train=200_000),
    ),
    "stage2": (
        PaperNetwork("T_PDM_p.py", "teff", 1, 1e-2, 1e-2, 1000, staircase=True, n_train=200_000),
        PaperNetwork("g_PDM_p.py", "logg", 1, 5e-3, 0.5, 100, staircase=True, n_train=200_000),
    ),
    "stage3": (
        PaperNetwork("P_MDN_p.py", "deltap", 2, 1e-2, 1e-4, 10, staircase=False, n_train=30_000),
        PaperNetwork("nu_MDN_p.py", "deltanu", 1, 5e-4, 1e-2, 1000, staircase=False, n_train=30_000),
    ),
}


def redclump_config(stage: str) -> MDNConfig:
    """Our network for a stage: both targets in one MDN, with our defaults."""
    return MDNConfig(features=FEATURES, targets=STAGE_TARGETS[stage], n_components=REDCLUMP_COMPONENTS[stage])


def paper_config(network: PaperNetwork) -> MDNConfig:
    """The authors' network for one target.

    Examples
    --------
    >>> config = paper_config(PAPER_NETWORKS["stage3"][0])
    >>> config.targets, config.n_components, config.hidden, config.activation
    (('deltap',), 2, (32, 24, 16, 8), 'sigmoid')
    """
    return MDNConfig(
        features=FEATURES,
        targets=(network.target,),
        n_components=network.n_components,
        hidden=PAPER_HIDDEN,
        # exp() alone can underflow to a zero sigma in float32; 1e-6 of the target's range
        # (0.0004 s of ΔP) changes no fit.
        sigma_floor=1e-6,
        activation="sigmoid",
        scaling="minmax",
        shared_scale=BANDS,
        sigma_link="exp",
        init="glorot",
        uncertainty="weighted_sigma",
    )


#: Full-batch steps a network may take: this many row-steps (training stars × steps), so that
#: every network gets the same work whatever its training-set size, and the same data and seed
#: always give the same networks (a wall-clock limit would not). 1.2·10⁹ is 6,000 steps on the
#: authors' 200,000 stars and 40,000 (the cap) on their 30,000: about an hour for all six on 2
#: CPU cores, and enough for the validation loss to flatten (:func:`paper_schedule`'s patience
#: of 1,000 steps) or for the curve to show that it has not (docs/networks.md).
PAPER_ROW_STEPS = 1_200_000_000
#: Learning rate of the ``"budget"`` schedule at its first and last step.
BUDGET_RATES = (1e-2, 1e-3)


def paper_max_steps(n_train: int, *, row_steps: int = PAPER_ROW_STEPS, cap: int = 40_000) -> int:
    """Full-batch steps for a network trained on ``n_train`` stars: ``row_steps / n_train``,
    between 100 and ``cap``.

    >>> paper_max_steps(30_000), paper_max_steps(200_000), paper_max_steps(1_000)
    (40000, 6000, 40000)
    """
    return int(np.clip(np.ceil(row_steps / max(n_train, 1)), 100, cap))


def paper_schedule(
    network: PaperNetwork,
    *,
    rates: Literal["budget", "as_run", "as_written"] = "budget",
    max_steps: int = 4000,
    eval_every: int = 50,
    patience: int = 20,
    time_budget: float | None = None,
) -> FullBatchSchedule:
    """Full-batch Adam with exponential decay, stopped on the validation loss.

    The validation loss is evaluated every ``eval_every`` steps; ``patience`` evaluations
    without an improvement of 10⁻⁴ (1,000 steps by default) stop the network, well inside
    :func:`paper_max_steps`, so early stopping can fire.

    ``rates``:

    * ``"budget"`` (default): 10⁻² decaying exponentially to 10⁻³ at ``max_steps``. The
      authors' rates (5·10⁻⁴ to 10⁻²) were made for 10⁶ steps; within a few hundred steps the
      slowest leave a network far from converged (log g: 0.44 dex scatter after 600 steps at
      their 5·10⁻⁴, 0.28 dex with this schedule, docs/networks.md).
    * ``"as_run"``: the script's rate, constant, as their code actually trained (module
      docstring).
    * ``"as_written"``: the script's rate with the decay the script configures.
    """
    if rates not in ("budget", "as_run", "as_written"):
        msg = f"rates must be 'budget', 'as_run' or 'as_written', got {rates!r}"
        raise ValueError(msg)
    if rates == "budget":
        first, last = BUDGET_RATES
        return FullBatchSchedule(
            learning_rate=first,
            decay_rate=last / first,
            decay_steps=max_steps,
            max_steps=max_steps,
            eval_every=eval_every,
            patience=patience,
            time_budget=time_budget,
        )
    written = rates == "as_written"
    return FullBatchSchedule(
        learning_rate=network.learning_rate,
        decay_rate=network.decay_rate if written else 1.0,
        decay_steps=network.decay_steps,
        staircase=network.staircase,
        max_steps=max_steps,
        eval_every=eval_every,
        patience=patience,
        time_budget=time_budget,
    )
