"""Foundation helpers and lesson 01: reference answers and bad input."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from helpers import checks, metrics, models, plotting, runtime, toy_data, training, widgets


# --- runtime ----------------------------------------------------------------------------------

def test_seed_everything_repeats_random_draws():
    runtime.seed_everything(3)
    a = torch.randn(5)
    runtime.seed_everything(3)
    assert torch.equal(a, torch.randn(5))


@pytest.mark.parametrize("bad", [1.5, "0", None, True])
def test_seed_everything_rejects_non_integers(bad):
    with pytest.raises(ValueError, match="seed must be an int"):
        runtime.seed_everything(bad)


def test_smoke_mode_reads_the_environment(monkeypatch):
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")
    assert runtime.smoke_mode()
    monkeypatch.setenv("GAN_COURSE_SMOKE", "0")
    assert not runtime.smoke_mode()


def test_run_dir_and_summary(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path))
    path = runtime.write_summary("99_test", headline="ok", error=0.5)
    assert path == tmp_path / "99_test" / "summary.json"
    assert '"error": 0.5' in path.read_text()
    with pytest.raises(ValueError, match="folder name"):
        runtime.run_dir("../escape")


# --- toy data and metrics ---------------------------------------------------------------------

def test_harmonic_curve_points_lie_on_sin():
    points = toy_data.harmonic_curve(1000, generator=torch.Generator().manual_seed(0))
    assert points.shape == (1000, 2)
    assert torch.allclose(points[:, 1], torch.sin(points[:, 0]))
    assert 0 <= points[:, 0].min() and points[:, 0].max() <= 2 * math.pi


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10"])
def test_harmonic_curve_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="positive int"):
        toy_data.harmonic_curve(bad)


def test_curve_error_reference_values():
    x = torch.linspace(0, 6, 50)
    on_curve = torch.stack([x, torch.sin(x)], dim=1)
    assert metrics.curve_error(on_curve) == pytest.approx(0.0, abs=1e-6)
    shifted = on_curve + torch.tensor([0.0, 0.25])
    assert metrics.curve_error(shifted) == pytest.approx(0.25, abs=1e-6)


def test_wasserstein_to_uniform_reference_values():
    n = 1000
    even = 2 * math.pi * (torch.arange(n) + 0.5) / n  # exactly the uniform quantiles
    assert metrics.wasserstein_to_uniform(even) == pytest.approx(0.0, abs=1e-6)
    # All mass at pi: W1 = E|U - pi| for U ~ Uniform[0, 2 pi] = pi / 2.
    assert metrics.wasserstein_to_uniform(torch.full((n,), math.pi)) == pytest.approx(math.pi / 2, rel=1e-3)
    # Half the curve only, x ~ U[0, pi]: the quantile gap is u * pi, so W1 = pi / 2 as well.
    half = math.pi * (torch.arange(n) + 0.5) / n
    assert metrics.wasserstein_to_uniform(half) == pytest.approx(math.pi / 2, rel=1e-3)


@pytest.mark.parametrize("bad, message", [(torch.zeros(5, 3), r"shape \(N, 2\)"),
                                          (torch.zeros(5, 2, dtype=torch.long), "float"),
                                          ([[0.0, 0.0]], "torch.Tensor")])
def test_metrics_reject_bad_points(bad, message):
    with pytest.raises(ValueError, match=message):
        metrics.curve_error(bad)


# --- models -----------------------------------------------------------------------------------

def test_toy_model_shapes_and_parameter_count():
    generator = models.ToyGenerator(latent_dim=2, hidden_dim=32, data_dim=2)
    discriminator = models.ToyDiscriminator(data_dim=2, hidden_dim=32)
    assert generator(torch.randn(7, 2)).shape == (7, 2)
    out = discriminator(torch.randn(7, 2))
    assert out.shape == (7, 1) and 0 <= out.min() and out.max() <= 1
    # (2*32 + 32) + (32*32 + 32) + (32*2 + 2)
    assert models.count_parameters(generator) == 96 + 1056 + 66
    logits = models.ToyDiscriminator(sigmoid=False)
    assert not isinstance(logits.net[-1], nn.Sigmoid)


def test_toy_models_reject_bad_sizes():
    with pytest.raises(ValueError, match="hidden_dim must be a positive int"):
        models.ToyGenerator(hidden_dim=0)


# --- training ---------------------------------------------------------------------------------

def _pair():
    torch.manual_seed(0)
    return models.ToyGenerator(latent_dim=2, hidden_dim=8), models.ToyDiscriminator(hidden_dim=8)


def test_d_step_matches_hand_computed_loss_and_leaves_g_alone():
    generator, discriminator = _pair()
    real, noise = torch.randn(16, 2), torch.randn(16, 2)
    with torch.no_grad():
        d_real, d_fake = discriminator(real), discriminator(generator(noise))
        expected = -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean())
    g_before = [p.clone() for p in generator.parameters()]
    d_before = [p.clone() for p in discriminator.parameters()]
    stats = training.d_step(discriminator, generator, real, noise,
                            torch.optim.SGD(discriminator.parameters(), lr=0.1), nn.BCELoss())
    assert stats["d_loss"] == pytest.approx(expected.item(), rel=1e-5)
    assert stats["d_real"] == pytest.approx(d_real.mean().item(), rel=1e-5)
    assert all(torch.equal(a, b) for a, b in zip(g_before, generator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d_before, discriminator.parameters()))


def test_g_step_is_non_saturating_and_moves_only_g():
    generator, discriminator = _pair()
    noise = torch.randn(16, 2)
    with torch.no_grad():
        expected = -torch.log(discriminator(generator(noise))).mean()
    d_before = [p.clone() for p in discriminator.parameters()]
    stats = training.g_step(discriminator, generator, noise,
                            torch.optim.SGD(generator.parameters(), lr=0.1), nn.BCELoss())
    assert stats["g_loss"] == pytest.approx(expected.item(), rel=1e-5)
    assert all(torch.equal(a, b) for a, b in zip(d_before, discriminator.parameters()))


def test_d_step_with_logits_reports_probabilities():
    generator, _ = _pair()
    discriminator = models.ToyDiscriminator(hidden_dim=8, sigmoid=False)
    stats = training.d_step(discriminator, generator, torch.randn(8, 2), torch.randn(8, 2),
                            torch.optim.SGD(discriminator.parameters(), lr=0.1), nn.BCEWithLogitsLoss())
    assert 0 <= stats["d_real"] <= 1 and 0 <= stats["d_fake"] <= 1


def test_d_step_rejects_mismatched_batches():
    generator, discriminator = _pair()
    with pytest.raises(ValueError, match="same batch size, got 8 and 4"):
        training.d_step(discriminator, generator, torch.randn(8, 2), torch.randn(4, 2),
                        torch.optim.SGD(discriminator.parameters(), lr=0.1), nn.BCELoss())


def test_history_logs_and_round_trips():
    history = training.History()
    history.log(0, d_loss=1.0, g_loss=torch.tensor(2.0))
    history.log(10, d_loss=0.5, g_loss=1.5)
    assert history.steps("d_loss") == [0, 10] and history.last("g_loss") == 1.5
    copy = training.History()
    copy.load_state_dict(history.state_dict())
    assert copy.series == history.series
    with pytest.raises(ValueError, match="no series named 'coverage'"):
        history.values("coverage")


def test_check_finite_explains_divergence():
    training.check_finite(5, d_loss=0.7, g_loss=1.2)
    with pytest.raises(training.TrainingDiverged, match="step 12.*g_loss=nan.*learning rate"):
        training.check_finite(12, d_loss=0.7, g_loss=float("nan"))


def test_keep_on_interrupt_keeps_what_was_trained(capsys):
    done = []
    with training.keep_on_interrupt():
        for step in range(10):
            if step == 3:
                raise KeyboardInterrupt
            done.append(step)
    assert done == [0, 1, 2]
    assert "Interrupted" in capsys.readouterr().out


def test_checkpoint_round_trip(tmp_path):
    generator, discriminator = _pair()
    optimizer = torch.optim.Adam(generator.parameters())
    generator(torch.randn(4, 2)).sum().backward()
    optimizer.step()
    history = training.History()
    history.log(3, d_loss=0.25)
    path = training.save_checkpoint(tmp_path / "c.pt", generator=generator, g_optimizer=optimizer,
                                    history=history, step=3, fixed_noise=torch.ones(2, 2))
    restored, _ = _pair()
    torch.nn.init.zeros_(restored.net[0].weight)
    new_history = training.History()
    state = training.load_checkpoint(path, generator=restored, history=new_history)
    assert torch.equal(restored.net[0].weight, generator.net[0].weight)
    assert state["step"] == 3 and torch.equal(state["fixed_noise"], torch.ones(2, 2))
    assert new_history.last("d_loss") == 0.25


def test_checkpoint_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        training.load_checkpoint(tmp_path / "missing.pt")
    generator, discriminator = _pair()
    path = training.save_checkpoint(tmp_path / "c.pt", generator=generator)
    with pytest.raises(ValueError, match=r"has no \['discriminator'\]"):
        training.load_checkpoint(path, discriminator=discriminator)


def test_every():
    assert [s for s in range(1, 11) if training.every(s, 4, last_step=10)] == [4, 8, 10]
    with pytest.raises(ValueError, match="positive"):
        training.every(3, 0)


# --- plotting and widgets ---------------------------------------------------------------------

def test_image_grid_shape_and_range():
    grid = plotting.image_grid(torch.rand(10, 1, 28, 28) * 2 - 1, nrow=5)
    assert grid.shape == (2 + 2 * 30, 2 + 5 * 30, 3)
    assert 0 <= grid.min() and grid.max() <= 1
    with pytest.raises(ValueError, match=r"\(N, C, H, W\) with C = 1 or 3, got \(28, 28\)"):
        plotting.image_grid(torch.rand(28, 28))


def test_surface_probabilities_grid_orientation():
    # A "discriminator" that says real exactly where x > 0: the right half of the image is 1.
    surface = plotting.surface_probabilities(lambda p: (p[:, :1] > 0).float(), (-1, 1), (-1, 1), resolution=4)
    assert surface.shape == (4, 4)
    assert torch.equal(surface[:, 2:], torch.ones(4, 2)) and torch.equal(surface[:, :2], torch.zeros(4, 2))


def test_live_plot_updates_without_a_notebook():
    history = training.History()
    history.log(0, d_loss=1.0)
    plot = plotting.LivePlot(curves=[["d_loss"]], extra_panels=1)
    drawn = []
    plot.update(history, lambda axes: drawn.append(len(axes)))
    assert drawn == [1]


def test_training_controls_buttons_call_back_with_settings():
    calls = []
    controls = widgets.training_controls(lambda s: calls.append(("train", s)), lambda s: calls.append(("reset", s)),
                                         lr_d=1e-3, lr_g=2e-3, d_steps=2, latent_dim=3, steps=100)
    controls["train"].click()
    controls["latent_dim"].value = 5
    controls["reset"].click()
    assert calls[0] == ("train", {"lr_d": 1e-3, "lr_g": 2e-3, "d_steps": 2, "latent_dim": 3, "steps": 100})
    assert calls[1][0] == "reset" and calls[1][1]["latent_dim"] == 5
    with pytest.raises(ValueError, match="lr_d must be between"):
        widgets.training_controls(print, print, lr_d=5.0, lr_g=1e-3, d_steps=1, latent_dim=2)


# --- lesson 01 checks: right answers pass, wrong ones fail with a useful message -------------

BCE = nn.BCELoss()


def good_d_loss(d_real, d_fake):
    return BCE(d_real, torch.ones_like(d_real)) + BCE(d_fake, torch.zeros_like(d_fake))


def test_check_d_loss_accepts_the_right_answer(capsys):
    checks.check_d_loss(good_d_loss)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda r, f: BCE(r, torch.zeros_like(r)) + BCE(f, torch.ones_like(f)), "labels are swapped"),
    (lambda r, f: good_d_loss(r, f) / 2, "half of it"),
    (lambda r, f: BCE(r, torch.ones_like(r)), "expected"),
])
def test_check_d_loss_explains_wrong_answers(wrong, message):
    with pytest.raises(AssertionError, match=message):
        checks.check_d_loss(wrong)


def test_check_g_loss_names_the_saturating_loss():
    checks.check_g_loss(lambda f: BCE(f, torch.ones_like(f)))
    with pytest.raises(AssertionError, match="saturating"):
        checks.check_g_loss(lambda f: torch.log(1 - f).mean())
    with pytest.raises(AssertionError, match="labelled 0"):
        checks.check_g_loss(lambda f: BCE(f, torch.zeros_like(f)))


def test_check_discriminator():
    checks.check_discriminator(lambda: nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(), nn.Linear(8, 1), nn.Sigmoid()))
    with pytest.raises(AssertionError, match="Sigmoid"):
        checks.check_discriminator(lambda: nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(), nn.Linear(8, 1)))
    with pytest.raises(AssertionError, match=r"shape \(16, 1\)"):
        checks.check_discriminator(lambda: nn.Sequential(nn.Linear(2, 8), nn.Sigmoid()))

    def unwritten():
        raise NotImplementedError
    with pytest.raises(AssertionError, match="not written yet"):
        checks.check_discriminator(unwritten)


def test_check_harmonic_gan_thresholds():
    checks.check_harmonic_gan(0.02, 0.03, max_error=0.05, max_coverage=0.1)
    with pytest.raises(AssertionError, match="mode collapse"):
        checks.check_harmonic_gan(0.02, 0.9, max_error=0.05, max_coverage=0.1)
    with pytest.raises(AssertionError, match="off the curve"):
        checks.check_harmonic_gan(0.4, 0.03, max_error=0.05, max_coverage=0.1)
