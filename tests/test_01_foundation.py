"""Foundation helpers and lesson 01: reference answers and bad input."""
from __future__ import annotations

import math
import os
import signal
from pathlib import Path

import nbformat
import pytest
import torch
from torch import nn

from helpers import checkpoints, diagrams, metrics, models, plotting, runtime, toy_data, training, widgets
from helpers.checks import CheckFailed, lesson01

ROOT = Path(__file__).resolve().parents[1]


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
    path = runtime.write_summary("99_test", headline="ok", seed=3, error=0.5)
    assert path == tmp_path / "99_test" / "summary.json"
    assert '"error": 0.5' in path.read_text()
    with pytest.raises(ValueError, match="folder name"):
        runtime.run_dir("../escape")
    assert '"seed": 3' in path.read_text()
    with pytest.raises(ValueError, match="seed must be the lesson's SEED, an int, got float 3.5"):
        runtime.write_summary("99_test", headline="ok", seed=3.5)


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


def test_curve_coverage_reference_values():
    n = 1000

    def on_curve(x):
        return torch.stack([x, torch.sin(x)], dim=1)
    even = 2 * math.pi * (torch.arange(n) + 0.5) / n  # exactly the uniform quantiles
    assert metrics.curve_coverage(on_curve(even)) == pytest.approx(0.0, abs=1e-6)
    # All mass at pi: W1 = E|U - pi| for U ~ Uniform[0, 2 pi] = pi / 2.
    assert metrics.curve_coverage(on_curve(torch.full((n,), math.pi))) == pytest.approx(math.pi / 2, rel=1e-3)
    # Half the curve only, x ~ U[0, pi]: the quantile gap is u * pi, so W1 = pi / 2 as well.
    half = math.pi * (torch.arange(n) + 0.5) / n
    assert metrics.curve_coverage(on_curve(half)) == pytest.approx(math.pi / 2, rel=1e-3)


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
    d_loss = training.d_step(discriminator, generator, real, noise,
                             torch.optim.SGD(discriminator.parameters(), lr=0.1), nn.BCELoss())
    assert isinstance(d_loss, torch.Tensor) and d_loss.numel() == 1 and not d_loss.requires_grad, \
        "the steps return one-number tensors, not floats: a float would wait for the GPU every step"
    assert float(d_loss) == pytest.approx(expected.item(), rel=1e-5)
    assert all(torch.equal(a, b) for a, b in zip(g_before, generator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d_before, discriminator.parameters()))


def test_g_step_is_non_saturating_and_moves_only_g():
    generator, discriminator = _pair()
    noise = torch.randn(16, 2)
    with torch.no_grad():
        expected = -torch.log(discriminator(generator(noise))).mean()
    d_before = [p.clone() for p in discriminator.parameters()]
    g_loss = training.g_step(discriminator, generator, noise,
                             torch.optim.SGD(generator.parameters(), lr=0.1), nn.BCELoss())
    assert isinstance(g_loss, torch.Tensor) and g_loss.numel() == 1 and not g_loss.requires_grad
    assert float(g_loss) == pytest.approx(expected.item(), rel=1e-5)
    assert all(torch.equal(a, b) for a, b in zip(d_before, discriminator.parameters()))


def test_g_step_skips_d_weight_gradients_and_restores_each_flag():
    generator, discriminator = _pair()
    first, last = discriminator.net[0], discriminator.net[-2]
    first.bias.requires_grad_(False)          # a parameter the caller froze stays frozen
    g_loss = training.g_step(discriminator, generator, torch.randn(16, 2),
                             torch.optim.SGD(generator.parameters(), lr=0.1), nn.BCELoss())
    assert torch.isfinite(g_loss)
    assert all(p.grad is None for p in discriminator.parameters())   # D's weight gradients never built
    assert all(p.grad is not None for p in generator.parameters())   # the gradient flowed through D into G
    assert first.weight.requires_grad and last.weight.requires_grad and not first.bias.requires_grad


def test_d_step_computes_a_spectral_norm_weight_once_for_both_passes():
    generator, _ = _pair()
    discriminator = models.ToyDiscriminator(hidden_dim=8, sigmoid=False)
    layer = torch.nn.utils.parametrizations.spectral_norm(discriminator.net[0])
    evaluations = []
    layer.parametrizations.weight[0].register_forward_hook(lambda *args: evaluations.append(1))
    training.d_step(discriminator, generator, torch.randn(8, 2), torch.randn(8, 2),
                    torch.optim.SGD(discriminator.parameters(), lr=0.1), nn.BCEWithLogitsLoss())
    assert len(evaluations) == 1            # one power iteration per D update, not one per pass
    discriminator(torch.randn(8, 2))
    assert len(evaluations) == 2            # outside d_step the weight is computed afresh


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


def test_checkpoint_round_trip(tmp_path):
    generator, discriminator = _pair()
    optimizer = torch.optim.Adam(generator.parameters())
    generator(torch.randn(4, 2)).sum().backward()
    optimizer.step()
    history = training.History()
    history.log(3, d_loss=0.25)
    path = checkpoints.save_checkpoint(tmp_path / "c.pt", generator=generator, g_optimizer=optimizer,
                                    history=history, step=3, fixed_noise=torch.ones(2, 2))
    restored, _ = _pair()
    torch.nn.init.zeros_(restored.net[0].weight)
    new_history = training.History()
    state = checkpoints.load_checkpoint(path, generator=restored, history=new_history)
    assert torch.equal(restored.net[0].weight, generator.net[0].weight)
    assert state["step"] == 3 and torch.equal(state["fixed_noise"], torch.ones(2, 2))
    assert new_history.last("d_loss") == 0.25


def test_checkpoint_restores_the_optimizer_so_training_continues_exactly(tmp_path):
    """Adam's running averages are part of the state: a resumed run takes the same next step."""
    generator, _ = _pair()
    optimizer = torch.optim.Adam(generator.parameters(), lr=0.01)
    batch = torch.randn(4, 2)
    for _ in range(3):
        optimizer.zero_grad()
        generator(batch).pow(2).sum().backward()
        optimizer.step()
    path = checkpoints.save_checkpoint(tmp_path / "c.pt", generator=generator, g_optimizer=optimizer)
    resumed, _ = _pair()
    resumed_optimizer = torch.optim.Adam(resumed.parameters(), lr=0.01)
    checkpoints.load_checkpoint(path, generator=resumed, g_optimizer=resumed_optimizer)
    assert resumed_optimizer.state_dict()["state"][0]["step"] == 3
    for model, opt in ((generator, optimizer), (resumed, resumed_optimizer)):  # one more step each
        opt.zero_grad()
        model(batch).pow(2).sum().backward()
        opt.step()
    assert all(torch.equal(a, b) for a, b in zip(generator.parameters(), resumed.parameters())), \
        "a fresh Adam (no running averages) would take a different step"


def test_checkpoint_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        checkpoints.load_checkpoint(tmp_path / "missing.pt")
    generator, discriminator = _pair()
    path = checkpoints.save_checkpoint(tmp_path / "c.pt", generator=generator)
    with pytest.raises(ValueError, match=r"has no \['discriminator'\]"):
        checkpoints.load_checkpoint(path, discriminator=discriminator)


# --- plotting and widgets ---------------------------------------------------------------------

def test_image_grid_shape_and_range():
    grid = plotting.image_grid(torch.rand(10, 1, 28, 28) * 2 - 1, nrow=5)
    assert grid.shape == (2 + 2 * 30, 2 + 5 * 30, 3)
    assert 0 <= grid.min() and grid.max() <= 1
    with pytest.raises(ValueError, match=r"\(N, C, H, W\) with C = 1 or 3, got \(28, 28\)"):
        plotting.image_grid(torch.rand(28, 28))


def test_surface_probabilities_grid_orientation():
    # A "discriminator" that says real exactly where x > 0: the right half of the image is 1.
    surface = diagrams.surface_probabilities(lambda p: (p[:, :1] > 0).float(), (-1, 1), (-1, 1), resolution=4)
    assert surface.shape == (4, 4)
    assert torch.equal(surface[:, 2:], torch.ones(4, 2)) and torch.equal(surface[:, :2], torch.zeros(4, 2))


def test_live_plot_updates_without_a_notebook():
    history = training.History()
    history.log(0, d_loss=1.0)
    plot = plotting.LivePlot(curves=[["d_loss"]], extra_panels=1)
    drawn = []
    plot.update(history, lambda axes: drawn.append(len(axes)))
    assert drawn == [1]


def test_training_controls_button_calls_back_with_settings():
    calls = []
    controls = widgets.training_controls(calls.append, lr_d=1e-3, lr_g=2e-3, d_steps=2, latent_dim=3, steps=100)
    controls["train"].click()
    controls["latent_dim"].value = 5
    controls["train"].click()
    assert calls[0] == {"lr_d": 1e-3, "lr_g": 2e-3, "d_steps": 2, "latent_dim": 3, "steps": 100}
    assert calls[1]["latent_dim"] == 5 and not controls["train"].disabled
    with pytest.raises(ValueError, match="lr_d must be between"):
        widgets.training_controls(print, lr_d=5.0, lr_g=1e-3, d_steps=1, latent_dim=2)


# --- lesson 01 checks: right answers pass, wrong ones fail with a useful message -------------

BCE = nn.BCELoss()


def d_step(discriminator, generator, real_points, noise, d_optimizer, *, detach=True, labels=(1.0, 0.0),
           scale=1.0, zero=True, step=True, also_step_g=False):
    """The lesson's D step, with switches that make each likely mistake."""
    fake = generator(noise)
    d_real, d_fake = discriminator(real_points), discriminator(fake.detach() if detach else fake)
    d_loss = scale * (BCE(d_real, torch.full_like(d_real, labels[0]))
                      + BCE(d_fake, torch.full_like(d_fake, labels[1])))
    if zero:
        d_optimizer.zero_grad()
    d_loss.backward()
    if step:
        d_optimizer.step()
    if also_step_g:  # one optimiser over both networks, say
        torch.optim.SGD(generator.parameters(), lr=0.1).step()
    return d_loss, d_real, d_fake


def g_step(discriminator, generator, noise, g_optimizer, *, label=1.0, saturating=False, detach=False,
           zero=True, step=True, step_d=False):
    """The lesson's G step, with switches that make each likely mistake."""
    fake = generator(noise)
    d_fake = discriminator(fake.detach() if detach else fake)
    g_loss = torch.log(1 - d_fake).mean() if saturating else BCE(d_fake, torch.full_like(d_fake, label))
    if zero:
        g_optimizer.zero_grad()
    g_loss.backward()
    if step:
        (torch.optim.SGD(discriminator.parameters(), lr=0.1) if step_d else g_optimizer).step()
    return g_loss, d_fake


def test_check_steps_accept_the_right_answers(capsys):
    lesson01.check_d_step(d_step)
    lesson01.check_g_step(g_step)
    assert capsys.readouterr().out.count("✅") == 2


@pytest.mark.parametrize("mistake, message", [
    ({"detach": False}, "detach the fakes"),
    ({"labels": (0.0, 1.0)}, "labels are swapped"),
    ({"labels": (1.0, 1.0)}, r"expected 1\.4490"),
    ({"scale": 0.5}, "half of it"),
    ({"zero": False}, "plus a leftover"),
    ({"step": False}, "did not change D's weights"),
    ({"detach": False, "also_step_g": True}, "changed G's weights"),
])
def test_check_d_step_explains_each_mistake(mistake, message):
    with pytest.raises(AssertionError, match=message):
        lesson01.check_d_step(lambda *args: d_step(*args, **mistake))


@pytest.mark.parametrize("mistake, message", [
    ({"saturating": True}, "saturating"),
    ({"label": 0.0}, "labelled 0"),
    ({"detach": True}, "do not detach"),
    ({"zero": False}, "plus a leftover"),
    ({"step": False}, "did not change G's weights"),
    ({"step_d": True}, "changed D's weights"),
])
def test_check_g_step_explains_each_mistake(mistake, message):
    with pytest.raises(AssertionError, match=message):
        lesson01.check_g_step(lambda *args: g_step(*args, **mistake))


def test_check_steps_name_an_unwritten_step_and_a_global():
    def unwritten(*args):
        raise NotImplementedError

    def uses_a_global(discriminator, generator, noise, g_optimizer):
        return undefined_optimizer.step()  # noqa: F821
    with pytest.raises(AssertionError, match="not written yet"):
        lesson01.check_d_step(unwritten)
    with pytest.raises(AssertionError, match="uses a name it is not given"):
        lesson01.check_g_step(uses_a_global)


def _optimal(p_data, p_g):
    total = p_data + p_g
    return torch.where(total > 0, p_data / torch.where(total > 0, total, torch.ones_like(total)), 0.5)


@pytest.mark.parametrize("answer, message", [
    (lambda p_data, p_g: p_g / (p_data + p_g), "probability that a point is fake"),
    (lambda p_data, p_g: p_data / p_g, "density ratio"),
    (lambda p_data, p_g: p_data / (p_data + p_g), "0/0"),
    (lambda p_data, p_g: _optimal(p_data, p_g).mean(), "one value per point"),
    (lambda p_data, p_g: torch.where(p_data + p_g > 0, _optimal(p_data, p_g), 0.0), "asks for 1/2"),
    (lambda p_data, p_g: p_data.div_(p_data + p_g), "changed the densities"),
])
def test_check_optimal_discriminator_explains_each_mistake(answer, message, capsys):
    lesson01.check_optimal_discriminator(_optimal)
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match=message):
        lesson01.check_optimal_discriminator(answer)


def test_check_harmonic_gan_thresholds():
    lesson01.check_harmonic_gan(0.02, 0.03, max_error=0.05, max_coverage=0.1)
    with pytest.raises(AssertionError, match="mode collapse"):
        lesson01.check_harmonic_gan(0.02, 0.9, max_error=0.05, max_coverage=0.1)
    with pytest.raises(AssertionError, match="off the curve"):
        lesson01.check_harmonic_gan(0.4, 0.03, max_error=0.05, max_coverage=0.1)


def test_generator_arrows_follow_the_gradient_of_log_d():
    # D(x) = sigmoid(w.x + b): grad log D = (1 - D(x)) w, parallel to w, shorter where D is sure.
    w, b = torch.tensor([2.0, -1.0]), 0.5
    points = torch.tensor([[0.0, 0.0], [1.0, 3.0], [-2.0, 1.0]])
    arrows = diagrams.generator_arrows(lambda x: torch.sigmoid(x @ w[:, None] + b), points)
    assert arrows.shape == (3, 2)
    expected = (1 - torch.sigmoid(points @ w + b))[:, None] * w
    assert torch.allclose(arrows, expected, atol=1e-6)
    cosine = torch.nn.functional.cosine_similarity(arrows, w.expand(3, 2), dim=1)
    assert torch.allclose(cosine, torch.ones(3), atol=1e-6)  # up D's surface, along w


def test_generator_arrows_leave_d_untouched_and_reject_bad_points():
    discriminator = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    diagrams.generator_arrows(discriminator, torch.randn(5, 2))
    assert all(p.grad is None for p in discriminator.parameters())
    with pytest.raises(ValueError, match=r"points must have shape \(N, 2\)"):
        diagrams.generator_arrows(discriminator, torch.randn(5, 3))


def test_draw_surface_draws_arrows_at_the_first_points():
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    fake = torch.randn(10, 2)
    diagrams.draw_surface(ax, torch.rand(4, 4), (-3, 3), (-3, 3), torch.randn(5, 2), fake,
                          arrows=torch.ones(4, 2))
    (quiver,) = [c for c in ax.collections if type(c).__name__ == "Quiver"]
    assert torch.allclose(torch.tensor(quiver.get_offsets(), dtype=torch.float32), fake[:4])
    with pytest.raises(ValueError, match="arrows must have shape"):
        diagrams.draw_surface(ax, torch.rand(4, 4), (-3, 3), (-3, 3), torch.randn(5, 2), fake,
                              arrows=torch.ones(11, 2))
    plt.close(fig)


# --- lesson 01's training loop: interrupted, then run again, it continues ---------------------

def test_lesson_01_interrupted_training_continues_when_its_cell_runs_again(tmp_path, monkeypatch):
    """Ctrl-C in step 5 stops the loop after that step; running the loop cell again trains steps 6.. on
    the same networks (not rebuilt, not re-initialised) and the history counts on from 5."""
    from IPython.core.inputtransformer2 import TransformerManager
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path))
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")
    cells = [c.source for c in nbformat.read(ROOT / "solutions" / "01_harmonic_gan.ipynb", 4).cells
             if c.cell_type == "code"]
    loop = next(i for i, source in enumerate(cells) if "for step in steps(STEPS, history" in source)
    namespace = {"__name__": "__main__"}
    for source in cells[:loop]:  # set-up, parameters, exercises, models and history, as a student runs them
        exec(compile(TransformerManager().transform_cell(source), "lesson 01", "exec"), namespace)
    namespace.update(STEPS=12, EVAL_EVERY=4)
    student_d_step, generators_seen = namespace["d_step"], []

    def d_step(discriminator, generator, *args):
        generators_seen.append((generator, [p.detach().clone() for p in generator.parameters()]))
        if len(generators_seen) == 5:
            os.kill(os.getpid(), signal.SIGINT)  # Kernel > Interrupt during step 5
        return student_d_step(discriminator, generator, *args)

    namespace["d_step"] = d_step
    run_loop = compile(cells[loop], "lesson 01, training cell", "exec")
    exec(run_loop, namespace)
    history, generator = namespace["history"], namespace["generator"]
    assert history.done == 5, f"the interrupt in step 5 should stop the loop after it, done: {history.done}"
    trained = [p.detach().clone() for p in generator.parameters()]
    assert not all(torch.equal(a, b) for a, b in zip(generators_seen[0][1], trained)), "5 steps changed nothing"
    exec(run_loop, namespace)
    assert namespace["history"] is history and history.done == 12, f"re-run: {history.done} steps done"
    assert len(generators_seen) == 12, "the re-run should train steps 6 to 12 only"
    again, weights = generators_seen[5]
    assert again is generator and all(torch.equal(a, b) for a, b in zip(weights, trained)), \
        "the re-run should start from the weights the interrupted run left, not fresh ones"
    assert history.steps("d_loss")[-1] == 11 and 4 in history.steps("d_loss")


def test_logit_push_draws_each_losss_slope_and_rejects_bad_input():
    logits = torch.linspace(-4, 4, 9)
    ax = diagrams.logit_push({"non-saturating": lambda l: -torch.log(torch.sigmoid(l)).mean()}, logits)
    x, y = ax.lines[0].get_data()
    assert torch.allclose(torch.tensor(y, dtype=torch.float32), 1 - torch.sigmoid(logits), atol=1e-5)  # 1 - D
    assert torch.allclose(torch.tensor(x, dtype=torch.float32), torch.sigmoid(logits))
    with pytest.raises(ValueError, match="against"):
        diagrams.logit_push({}, logits, against="loss")
    with pytest.raises(ValueError, match="1-D tensor"):
        diagrams.logit_push({}, logits.reshape(3, 3))
