"""The authors' network design ("paper") beside ours: architecture, scaling, full-batch training,
the Σ w μ point value, and save/load."""

from __future__ import annotations

import dataclasses
import doctest
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from redclump.core import networks
from redclump.core.inference import predict_summary
from redclump.core.mdn import MDNConfig, MixtureDensityNetwork, PerTargetMDN
from redclump.core.training import FullBatchSchedule, train_full_batch, train_per_target
from redclump.data.schema import BANDS, FEATURES
from torch import nn

from redclump import pipeline


def _photometry(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """14 features like ours (13 magnitudes at different levels, then a parallax) and two
    targets: one bimodal (a ΔP-like jump), one smooth."""
    rng = np.random.default_rng(seed)
    colour = rng.normal(size=n)
    mags = 12.0 + np.arange(13) * 0.4 + colour[:, None] * np.linspace(0.0, 1.5, 13) + 0.02 * rng.normal(size=(n, 13))
    parallax = rng.uniform(0.1, 2.0, size=n)
    x = np.column_stack([mags, parallax]).astype(np.float32)
    jump = np.where(colour + 0.3 * rng.normal(size=n) > 0.5, 300.0, 70.0)
    smooth = 4.0 + 2.0 * colour + 0.1 * rng.normal(size=n)
    return x, np.column_stack([jump + 5 * rng.normal(size=n), smooth]).astype(np.float32)


def test_paper_networks_have_the_authors_layers_activation_and_k() -> None:
    expected_k = {"teff": 1, "logg": 1, "deltanu": 1, "deltap": 2}
    seen = set()
    for stage, nets in networks.PAPER_NETWORKS.items():
        assert tuple(net.target for net in nets) == networks.STAGE_TARGETS[stage]
        for net in nets:
            model = MixtureDensityNetwork(networks.paper_config(net))
            linears = [m for m in model.body if isinstance(m, nn.Linear)]
            assert [(m.in_features, m.out_features) for m in linears] == [(14, 32), (32, 24), (24, 16), (16, 8)]
            assert all(isinstance(m, nn.Sigmoid) for m in model.body if not isinstance(m, nn.Linear))
            assert len(model.body) == 8
            k = expected_k[net.target]
            assert model.config.n_components == k
            assert (model.head.in_features, model.head.out_features) == (8, 3 * k)
            # Glorot-uniform weights, zero biases (TensorFlow's dense-layer default).
            bound = math.sqrt(6 / (14 + 32))
            assert (
                float(linears[0].weight.detach().abs().max()) <= bound
                and float(linears[0].bias.detach().abs().max()) == 0.0
            )
            seen.add((stage, net.target))
    assert len(seen) == 6


def test_our_networks_are_unchanged() -> None:
    for stage, k in {"stage1": 2, "stage2": 2, "stage3": 3}.items():
        config = networks.redclump_config(stage)
        model = MixtureDensityNetwork(config)
        assert config.hidden == (64, 64) and config.n_components == k and config.features == FEATURES
        assert all(isinstance(m, nn.SiLU) for m in model.body if not isinstance(m, nn.Linear))
        assert (config.scaling, config.sigma_link, config.init, config.uncertainty) == (
            "standard",
            "softplus",
            "torch",
            "std",
        )


def test_minmax_scaling_uses_one_range_for_all_13_bands_and_its_own_for_parallax() -> None:
    x, y = _photometry(2000, 0)
    model = MixtureDensityNetwork(networks.paper_config(networks.PAPER_NETWORKS["stage3"][0]))
    model.set_scaling(torch.as_tensor(x), torch.as_tensor(y[:, :1]))
    bands = [FEATURES.index(b) for b in BANDS]
    assert len(bands) == 13
    np.testing.assert_allclose(model.x_mean[bands].numpy(), x[:, bands].min())
    np.testing.assert_allclose(model.x_scale[bands].numpy(), x[:, bands].max() - x[:, bands].min(), rtol=1e-6)
    np.testing.assert_allclose(float(model.x_mean[13]), x[:, 13].min())
    np.testing.assert_allclose(float(model.x_scale[13]), x[:, 13].max() - x[:, 13].min(), rtol=1e-6)
    np.testing.assert_allclose(float(model.y_mean[0]), y[:, 0].min())
    np.testing.assert_allclose(float(model.y_scale[0]), y[:, 0].max() - y[:, 0].min(), rtol=1e-6)
    scaled = (torch.as_tensor(x) - model.x_mean) / model.x_scale
    assert float(scaled.min()) >= 0.0 and float(scaled.max()) <= 1.0 + 1e-6
    # One range: a band's own range would stretch every band to [0, 1]; the shared one does not.
    assert float(scaled[:, bands[0]].max()) < 0.9


def test_full_batch_training_takes_whole_set_adam_steps_with_exponential_decay() -> None:
    """Three steps of train_full_batch equal three hand-written full-batch Adam steps at rates
    lr·d^(t/T): every step sees every training star, and the rate decays."""
    x, y = _photometry(400, 1)
    config = networks.paper_config(networks.PAPER_NETWORKS["stage3"][0])
    schedule = FullBatchSchedule(learning_rate=1e-2, decay_rate=0.5, decay_steps=1, max_steps=3, eval_every=1)
    result = train_full_batch(config, x, y[:, :1], x, y[:, :1], schedule=schedule, seed=5)

    torch.manual_seed(5)
    hand = MixtureDensityNetwork(config)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y[:, :1])
    hand.set_scaling(xt, yt)
    optimiser = torch.optim.Adam(hand.parameters(), lr=1e-2)
    for step in range(3):
        for group in optimiser.param_groups:
            group["lr"] = 1e-2 * 0.5**step
        loss = -hand(xt).log_prob(yt).sum(-1).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    got, want = result.model.state_dict(), hand.state_dict()
    assert result.steps == 3 and result.best_epoch == 3
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=1e-5, atol=1e-6)


def test_full_batch_training_reduces_the_loss_and_stops_early() -> None:
    x, y = _photometry(3000, 2)
    xv, yv = _photometry(1000, 3)
    config = networks.paper_config(networks.PAPER_NETWORKS["stage3"][1])
    schedule = FullBatchSchedule(learning_rate=1e-2, max_steps=20_000, eval_every=10, patience=10)
    result = train_full_batch(config, x, y[:, 1:], xv, yv[:, 1:], schedule=schedule, seed=0)
    assert result.stop_reason == "converged"
    assert result.steps < schedule.max_steps
    # From ~2.2 nats after 10 steps to well below (a perfect fit of the 0.1 scatter: −0.9).
    assert min(result.valid_loss) < result.valid_loss[0] - 1.5
    best = int(np.argmin(result.valid_loss))
    assert result.best_epoch == (best + 1) * schedule.eval_every
    # The returned weights are the best evaluation's, not the last step's.
    with torch.no_grad():
        kept = float(-result.model(torch.as_tensor(xv)).log_prob(torch.as_tensor(yv[:, 1:])).mean())
    assert kept == pytest.approx(min(result.valid_loss), abs=1e-4)
    short = train_full_batch(
        config, x, y[:, 1:], xv, yv[:, 1:], schedule=dataclasses.replace(schedule, time_budget=0.0)
    )
    assert short.stop_reason == "time_budget" and short.steps == 1


def test_schedules_budget_decays_as_run_is_constant_as_written_follows_the_script() -> None:
    net = networks.PAPER_NETWORKS["stage3"][0]
    budget = networks.paper_schedule(net, max_steps=500)
    assert budget.rate(0) == pytest.approx(1e-2) and budget.rate(500) == pytest.approx(1e-3)
    assert budget.rate(250) == pytest.approx(1e-2 * 0.1**0.5)
    as_run = networks.paper_schedule(net, rates="as_run")
    as_written = networks.paper_schedule(net, rates="as_written")
    assert as_run.rate(0) == as_run.rate(10_000) == net.learning_rate
    assert as_written.rate(0) == net.learning_rate
    assert as_written.rate(net.decay_steps) == pytest.approx(net.learning_rate * net.decay_rate)
    with pytest.raises(ValueError, match="rates must be"):
        networks.paper_schedule(net, rates="sometimes")  # type: ignore[arg-type]
    # The same work for every network: steps × training stars ≈ PAPER_ROW_STEPS.
    assert networks.paper_max_steps(200_000) * 200_000 == networks.PAPER_ROW_STEPS
    # Early stopping can fire well inside the step budget of every network (#19).
    schedule = networks.paper_schedule(net, max_steps=networks.paper_max_steps(200_000))
    assert schedule.eval_every * schedule.patience <= schedule.max_steps / 4


def test_chunked_full_batch_gradient_equals_the_whole_batch_one() -> None:
    x, y = _photometry(1000, 6)
    config = networks.paper_config(networks.PAPER_NETWORKS["stage3"][0])
    whole = FullBatchSchedule(learning_rate=1e-2, max_steps=5, eval_every=5, chunk_rows=1000)
    # A generous time budget must not end training early.
    chunked = dataclasses.replace(whole, chunk_rows=96, time_budget=600.0)
    a = train_full_batch(config, x, y[:, :1], x, y[:, :1], schedule=whole, seed=2).model.state_dict()
    result = train_full_batch(config, x, y[:, :1], x, y[:, :1], schedule=chunked, seed=2)
    assert (result.steps, result.stop_reason) == (5, "max_steps")
    b = result.model.state_dict()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-5)


def _paper_stage3(seed: int = 0, steps: int = 30) -> PerTargetMDN:
    x, y = _photometry(1500, seed)
    nets = networks.PAPER_NETWORKS["stage3"]
    schedules = [FullBatchSchedule(learning_rate=2e-2, max_steps=steps, eval_every=10) for _ in nets]
    model, results = train_per_target([networks.paper_config(n) for n in nets], schedules, x, y, x, y, seed=seed)
    assert [r.steps for r in results] == [steps, steps]
    return model


def test_point_value_is_the_weighted_mean_and_uncertainty_the_weighted_sigma() -> None:
    model = _paper_stage3()
    x, _ = _photometry(500, 9)
    summary = predict_summary(model, x, keep_mixture=True)
    with torch.no_grad():
        logits, means, sigmas = model.mixture_parameters(torch.as_tensor(x))
    weights = torch.softmax(logits, dim=-1)
    np.testing.assert_allclose(summary.mean, (weights * means).sum(-1).numpy(), rtol=1e-5)
    np.testing.assert_allclose(summary.std, (weights * sigmas).sum(-1).numpy(), rtol=1e-5)
    # The padded second Δν component has weight zero and leaves Δν as its own network gives it.
    assert np.all(summary.mixture[0][:, 1, 1] == 0.0)
    dnu = model.networks[1]
    own = predict_summary(dnu, x)
    np.testing.assert_allclose(summary.mean[:, 1], own.mean[:, 0], rtol=1e-6)
    with torch.no_grad():
        joint = model(torch.as_tensor(x)).log_prob(torch.zeros(len(x), 2) + 4.0)[:, 1]
        alone = dnu(torch.as_tensor(x)).log_prob(torch.zeros(len(x), 1) + 4.0)[:, 0]
    torch.testing.assert_close(joint, alone)


def test_saved_paper_stage_loads_to_identical_predictions(tmp_path: Path) -> None:
    model = _paper_stage3()
    pipeline.save_model(model, tmp_path / "stage3.pt", {"networks": "paper"})
    loaded = pipeline.load_model(tmp_path / "stage3.pt")
    assert isinstance(loaded, PerTargetMDN)
    assert [n.config for n in loaded.networks] == [n.config for n in model.networks]
    x, _ = _photometry(300, 4)
    with torch.no_grad():
        for got, want in zip(
            loaded.mixture_parameters(torch.as_tensor(x)), model.mixture_parameters(torch.as_tensor(x)), strict=True
        ):
            assert torch.equal(got, want)
    bundle = torch.load(tmp_path / "stage3.pt", weights_only=True)
    assert bundle["format"] == "redclump-mdn-set-1" and bundle["metadata"] == {"networks": "paper"}


def test_a_config_saved_before_the_design_options_loads_as_ours() -> None:
    old = {"features": ["a"], "targets": ["y"], "n_components": 2, "hidden": [8], "sigma_floor": 1e-3}
    config = MDNConfig.from_dict(old)
    assert config == MDNConfig(features=("a",), targets=("y",), n_components=2, hidden=(8,))


def test_bad_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="activation must be one of"):
        MDNConfig(features=("a",), targets=("y",), activation="tanh")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not features"):
        MDNConfig(features=("a",), targets=("y",), scaling="minmax", shared_scale=("b",))
    with pytest.raises(ValueError, match="needs scaling='minmax'"):
        MDNConfig(features=("a",), targets=("y",), shared_scale=("a",))


def test_doctests() -> None:
    from redclump.core import training

    for module in (networks, training):
        assert doctest.testmod(module, raise_on_error=False).failed == 0
