"""MDN contract: forward returns a mixture, scaling lives in buffers, save/load is exact."""

from __future__ import annotations

import doctest
import io

import numpy as np
import pytest
import torch
from redclump.core import mdn
from redclump.core.training import evaluate, train_mdn

CONFIG = mdn.MDNConfig(features=("a", "b"), targets=("y",), n_components=2, hidden=(16,))


def _bimodal(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    # y is bimodal given x: +-3 around 10·a, chosen at random.
    y = (10 * x[:, :1] + rng.choice([-3.0, 3.0], size=(n, 1)) + 0.3 * rng.normal(size=(n, 1))).astype(np.float32)
    return x, y


def test_forward_returns_a_mixture_in_physical_units() -> None:
    net = mdn.MixtureDensityNetwork(CONFIG)
    net.set_scaling(torch.zeros(4, 2), torch.tensor([[100.0], [200.0], [300.0], [400.0]]))
    dist = net(torch.zeros(3, 2))
    assert isinstance(dist, torch.distributions.MixtureSameFamily)
    assert tuple(dist.batch_shape) == (3, 1)
    assert 0 < float(dist.mean.mean().detach()) < 1000


def test_training_recovers_a_bimodal_target_and_calibrated_sigmas() -> None:
    x, y = _bimodal(6000, 0)
    xv, yv = _bimodal(2000, 1)
    result = train_mdn(CONFIG, x, y, xv, yv, seed=0, epochs=60, batch_size=256, learning_rate=1e-2)
    logits, means, sigmas = result.model.mixture_parameters(torch.as_tensor(xv))
    peak = mdn.mixture_peak(logits.detach(), means.detach(), sigmas.detach())[:, 0]
    # The peak estimator lands on a mode (|y − 10a| ≈ 3), the mean would sit in between.
    assert np.median(np.abs(np.abs(peak - 10 * xv[:, 0]) - 3.0)) < 0.6
    # The full-mixture sigma of two modes at ±3 with width 0.3 is √(9 + 0.09) ≈ 3.0.
    _, std = mdn.mixture_summary(logits.detach(), means.detach(), sigmas.detach())
    assert 2.7 < np.median(std) < 3.3
    assert evaluate(result.model, xv, yv)["y"]["n"] == len(xv)
    assert result.valid_loss[result.best_epoch] == min(result.valid_loss)


def test_same_seed_same_weights() -> None:
    x, y = _bimodal(500, 2)
    a = train_mdn(CONFIG, x, y, x, y, seed=3, epochs=3).model.state_dict()
    b = train_mdn(CONFIG, x, y, x, y, seed=3, epochs=3).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_save_and_load_gives_identical_predictions() -> None:
    x, y = _bimodal(500, 4)
    model = train_mdn(CONFIG, x, y, x, y, seed=0, epochs=2).model
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    clone = mdn.MixtureDensityNetwork(CONFIG)
    clone.load_state_dict(torch.load(buffer, weights_only=True))
    xt = torch.as_tensor(x)
    for got, want in zip(clone.mixture_parameters(xt), model.mixture_parameters(xt), strict=True):
        assert torch.equal(got, want)
    assert torch.equal(clone.x_mean, model.x_mean)


def test_prob_above_of_a_two_component_mixture() -> None:
    logits = torch.log(torch.tensor([[[0.25, 0.75]]]))
    means = torch.tensor([[[0.0, 100.0]]])
    sigmas = torch.tensor([[[1.0, 1.0]]])
    assert np.isclose(mdn.prob_above(logits, means, sigmas, 50.0)[0, 0], 0.75)


def test_bad_training_data_is_refused() -> None:
    x, y = _bimodal(10, 0)
    y[3] = np.nan
    with pytest.raises(ValueError, match="y_train has 1 non-finite"):
        train_mdn(CONFIG, x, y, x, np.nan_to_num(y), epochs=1)
    with pytest.raises(ValueError, match="validation set is empty"):
        train_mdn(CONFIG, x, np.nan_to_num(y), x[:0], y[:0], epochs=1)


def test_doctests() -> None:
    assert doctest.testmod(mdn, raise_on_error=False).failed == 0


def test_summaries_match_torch_distributions_whatever_the_batch() -> None:
    """predict_summary's batched mean, sigma and P(y > t) equal those of the MixtureSameFamily the
    network returns (an independent implementation), for any batch size."""
    from redclump.core.inference import predict_summary

    x, y = _bimodal(3000, 5)
    model = train_mdn(CONFIG, x, y, x, y, seed=0, epochs=3).model
    with torch.no_grad():
        dist = model(torch.as_tensor(x))
        want_mean = dist.mean[:, 0].numpy()
        want_std = dist.stddev[:, 0].numpy()
        want_above = (1 - dist.cdf(torch.full((len(x), 1), 2.0)))[:, 0].numpy()
    for batch in (7, 1000, 1 << 16):
        mean, std, above, _ = predict_summary(model, x, threshold=2.0, batch_size=batch)
        np.testing.assert_allclose(mean[:, 0], want_mean, rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(std[:, 0], want_std, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(above, want_above, atol=1e-5)
