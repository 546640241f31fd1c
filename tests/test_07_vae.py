"""Lesson 07: the VAE model, its ELBO pieces (the solution's, helpers/taught/lesson07.py) against reference
answers, the new metrics (sharpness, nearest neighbours), the checks that explain wrong answers, the β slider,
and the lesson's two training loops continuing after an interrupt."""
from __future__ import annotations

import math
import os
import signal
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F
from IPython.core.inputtransformer2 import TransformerManager

from helpers import metrics, models, widgets
from helpers.checks import CheckFailed, lesson07
from helpers.taught import lesson07 as taught


# --- the model and the ELBO ------------------------------------------------------------------

def test_vae_shapes_and_generated_range():
    torch.manual_seed(0)
    model = models.VAE(latent_dim=3, hidden_dim=8, image_shape=(1, 6, 5))
    mu, logvar = model.encode(torch.rand(4, 1, 6, 5) * 2 - 1)
    assert mu.shape == logvar.shape == (4, 3)
    assert model.decode(mu).shape == (4, 1, 6, 5)
    images = model.generate(torch.randn(7, 3) * 10)
    assert images.shape == (7, 1, 6, 5) and images.min() >= -1 and images.max() <= 1
    assert not images.requires_grad


@pytest.mark.parametrize("kwargs, match", [
    ({"latent_dim": 0}, "latent_dim must be a positive int, got 0"),
    ({"hidden_dim": 2.5}, "hidden_dim must be a positive int, got 2.5"),
    ({"image_shape": (28, 28)}, r"image_shape must be \(C, H, W\)"),
])
def test_vae_rejects_bad_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.VAE(**kwargs)


def test_decode_names_the_expected_latent_size():
    with pytest.raises(ValueError, match=r"z must have shape \(N, 4\), got \(2, 3\)"):
        models.VAE(latent_dim=4, hidden_dim=8).decode(torch.zeros(2, 3))


def test_gaussian_kl_against_a_hand_computed_value_and_zero_at_the_prior():
    # one dimension, mu = 1, σ² = e: -½ (1 + 1 - 1 - e) = (e - 1) / 2
    kl = taught.gaussian_kl(torch.tensor([[1.0]]), torch.tensor([[1.0]]))
    assert math.isclose(kl.item(), (math.e - 1) / 2, rel_tol=1e-6)
    assert torch.equal(taught.gaussian_kl(torch.zeros(3, 5), torch.zeros(3, 5)), torch.zeros(3))


def test_gaussian_kl_matches_torch_distributions():
    torch.manual_seed(0)
    mu, logvar = torch.randn(6, 4), torch.randn(6, 4)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(6, 4), torch.ones(6, 4))
    assert torch.allclose(taught.gaussian_kl(mu, logvar), torch.distributions.kl_divergence(q, p).sum(1), atol=1e-5)


def test_elbo_loss_is_per_image_bce_sum_plus_beta_kl():
    torch.manual_seed(0)
    logits, images = torch.randn(3, 1, 4, 4), torch.rand(3, 1, 4, 4) * 2 - 1
    mu, logvar = torch.randn(3, 2), torch.randn(3, 2)
    loss, reconstruction, kl = taught.elbo_loss(logits, images, mu, logvar, beta=2.0)
    expected_rec = F.binary_cross_entropy_with_logits(logits, (images + 1) / 2, reduction="sum") / 3
    assert torch.allclose(reconstruction, expected_rec)
    assert torch.allclose(kl, taught.gaussian_kl(mu, logvar).mean())
    assert torch.allclose(loss, expected_rec + 2.0 * kl)


def test_a_few_hundred_steps_lower_the_loss():
    torch.manual_seed(0)
    prototypes = (torch.rand(4, 1, 6, 6) > 0.5).float() * 2 - 1   # four binary patterns to learn
    images = prototypes.repeat(16, 1, 1, 1)                            # (64, 1, 6, 6)
    model = models.VAE(latent_dim=2, hidden_dim=32, image_shape=(1, 6, 6))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(200):
        mu, logvar = model.encode(images)
        loss, _, _ = taught.elbo_loss(model.decode(taught.reparameterize(mu, logvar)), images, mu, logvar)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], f"loss {losses[0]:.1f} -> {losses[-1]:.1f}"


# --- metrics ---------------------------------------------------------------------------------

def test_sharpness_of_a_step_edge_and_of_a_flat_image():
    step = torch.full((1, 1, 4, 4), -1.0)
    step[..., 2:] = 1.0  # one vertical edge of height 2, met by one column of the 3 x 3 differences
    assert math.isclose(metrics.sharpness(step), 2 / 3, rel_tol=1e-6)
    assert metrics.sharpness(torch.zeros(2, 1, 5, 5)) == 0.0
    blurred = F.avg_pool2d(F.pad(step, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    assert metrics.sharpness(blurred) < metrics.sharpness(step)


@pytest.mark.parametrize("bad, match", [
    (torch.zeros(4, 4), r"images must be a non-empty float tensor of shape \(N, C, H, W\), got torch.float32 \(4, 4\)"),
    (torch.zeros(2, 1, 1, 5), r"at least 2×2 pixels, got \(1, 5\)"),
])
def test_sharpness_rejects_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        metrics.sharpness(bad)


def test_nearest_neighbours_matches_brute_force():
    torch.manual_seed(0)
    queries, references = torch.randn(9, 1, 3, 3), torch.randn(20, 1, 3, 3)
    distances, indices = metrics.nearest_neighbours(queries, references, chunk=4)
    brute = ((queries.flatten(1)[:, None] - references.flatten(1)[None]) ** 2).sum(-1).sqrt()  # (9, 20)
    assert torch.equal(indices, brute.argmin(1))
    assert torch.allclose(distances, brute.min(1).values, atol=1e-4)
    copy_distance, copy_index = metrics.nearest_neighbours(references[[5]], references)
    assert copy_index.item() == 5 and copy_distance.item() < 1e-3


def test_nearest_neighbours_rejects_mismatched_sizes():
    with pytest.raises(ValueError, match=r"same image size, got \(1, 3, 3\) and \(1, 4, 4\)"):
        metrics.nearest_neighbours(torch.zeros(2, 1, 3, 3), torch.zeros(2, 1, 4, 4))


# --- checks: the right answer passes, each typical mistake fails with its hint -----------------

def test_checks_pass_the_reference_answers(capsys):
    lesson07.check_reparameterize(taught.reparameterize)
    lesson07.check_gaussian_kl(taught.gaussian_kl)
    lesson07.check_elbo_loss(taught.elbo_loss)
    assert capsys.readouterr().out.count("✅") == 3


@pytest.mark.parametrize("wrong, hint", [
    (lambda mu, logvar: mu, "no noise was added"),
    (lambda mu, logvar: mu + logvar.exp() * torch.randn_like(mu), "you used exp(logvar) = σ² as the standard deviation"),
    (lambda mu, logvar: mu + logvar * torch.randn_like(mu), "you used logvar itself as the standard deviation"),
    (lambda mu, logvar: torch.normal(mu, torch.exp(0.5 * logvar)), "torch.normal(mu, std) is not differentiable"),
    (lambda mu, logvar: torch.exp(0.5 * logvar) * torch.randn_like(mu), "add the noise to mu"),
    (lambda mu, logvar: mu[:, :1], "should return a tensor of that shape"),
])
def test_check_reparameterize_explains_each_mistake(wrong, hint):
    with pytest.raises(CheckFailed) as failure:
        lesson07.check_reparameterize(wrong)
    assert hint in str(failure.value)


@pytest.mark.parametrize("wrong, hint", [
    (lambda mu, logvar: -(1 + logvar - mu ** 2 - logvar.exp()).sum(1), "the ½ in front is missing"),
    (lambda mu, logvar: 0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(1), "the sign is flipped"),
    (lambda mu, logvar: -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).mean(1), "you averaged over the latent"),
    (lambda mu, logvar: -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(), "one value per sample"),
    (lambda mu, logvar: -0.5 * (1 + logvar - mu ** 2 - logvar).sum(1), "σ² is its exponential"),
])
def test_check_gaussian_kl_explains_each_mistake(wrong, hint):
    with pytest.raises(CheckFailed) as failure:
        lesson07.check_gaussian_kl(wrong)
    assert hint in str(failure.value)


def _elbo(reduce_rec, kl_reduce="sum", beta_used=True, sign=1.0, targets=lambda x: (x + 1) / 2, kl_sign=1.0):
    def loss(logits, images, mu, logvar, beta):
        rec = F.binary_cross_entropy_with_logits(logits, targets(images), reduction="none").flatten(1)
        rec = rec.mean(1).mean() if reduce_rec == "pixel_mean" else rec.sum(1)
        rec = rec.sum() if reduce_rec == "batch_sum" else rec.mean()
        terms = -0.5 * (1 + logvar - mu ** 2 - logvar.exp())
        kl = terms.sum(1) if kl_reduce == "sum" else terms.mean(1)
        kl = kl.sum() if reduce_rec == "batch_sum" else kl.mean()
        total = sign * (rec + kl_sign * (beta if beta_used else 1.0) * kl)
        return total, rec, kl
    return loss


@pytest.mark.parametrize("wrong, hint", [
    (_elbo("pixel_mean"), "averaged over the 36 pixels"),
    (_elbo("sum", kl_reduce="mean"), "the KL was averaged over the 4 latent dimensions"),
    (_elbo("batch_sum"), "summed over the batch too"),
    (_elbo("sum", beta_used=False), "β is missing"),
    (_elbo("sum", sign=-1.0), "the sign is flipped"),
    (_elbo("sum", kl_sign=-1.0), "the KL term is subtracted"),
    (_elbo("sum", targets=lambda x: x.clamp(0, 1)), "map them to brightness in [0, 1]"),
])
def test_check_elbo_loss_explains_each_mistake(wrong, hint):
    with pytest.raises(CheckFailed) as failure:
        lesson07.check_elbo_loss(wrong)
    assert hint in str(failure.value)


def test_check_vae_samples_needs_all_ten_digits(capsys):
    lesson07.check_vae_samples(10, 0.07, 20.0, 8.0)
    lesson07.check_vae_samples(9, 0.049, 20.0, 8.0)  # a digit below 5% is there, not missing
    assert capsys.readouterr().out.count("✅") == 2
    with pytest.raises(CheckFailed, match="a digit is missing"):
        lesson07.check_vae_samples(9, 0.0, 20.0, 8.0)
    with pytest.raises(CheckFailed, match="diverged"):
        lesson07.check_vae_samples(10, 0.07, float("nan"), 8.0)


# --- the β slider ----------------------------------------------------------------------------

def test_option_slider_widget_draws_the_chosen_option():
    seen = []
    controls = widgets.option_slider(seen.append, options=[0.1, 1.0, 4.0], value=1.0, description="β")
    assert seen == [1.0]
    controls["option"].value = 4.0
    assert seen == [1.0, 4.0]
    with pytest.raises(ValueError, match=r"value must be one of \[0.1, 1.0\], got 2.0"):
        widgets.option_slider(seen.append, options=[0.1, 1.0], value=2.0)


# --- the lesson's two training loops: Ctrl-C, then running the cell again, continues ------------

NOTEBOOK = Path(__file__).resolve().parents[1] / "solutions" / "07_vae_vs_gan.ipynb"


def _code_cells() -> list[tuple[int, str]]:
    transform = TransformerManager().transform_cell  # IPython syntax (the %pip line) to Python
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return [(i, transform(c.source)) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def _run(namespace: dict, cell: tuple[int, str]) -> None:
    exec(compile(cell[1], f"{NOTEBOOK} [cell {cell[0]}]", "exec"), namespace)


def _interrupt_then_rerun(namespace, loop_cell, called_each_step, model, history, total):
    """Run the loop cell with Ctrl-C arriving during its third step, then run it again: it must go on from
    step 3 with the weights it had (not a fresh model), up to `total`."""
    original = namespace[called_each_step]
    calls, seen = [], {}

    def interrupted(*args, **kwargs):
        calls.append(None)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)  # what Kernel > Interrupt sends
        return original(*args, **kwargs)

    namespace[called_each_step] = interrupted
    _run(namespace, loop_cell)
    trained, done = namespace[model], namespace[history].done
    assert done == 3, f"the interrupted loop should stop after the step it was in (3), stopped at {done}"
    weights = {k: v.clone() for k, v in trained.state_dict().items()}

    def watched(*args, **kwargs):
        if not seen:  # the re-run's first step, before its update: the weights the interrupt left
            seen["weights"] = {k: v.clone() for k, v in namespace[model].state_dict().items()}
        seen["steps"] = seen.get("steps", 0) + 1
        return original(*args, **kwargs)

    namespace[called_each_step] = watched
    _run(namespace, loop_cell)
    namespace[called_each_step] = original
    assert namespace[model] is trained, f"running the loop cell again built a new {model}"
    assert all(torch.equal(seen["weights"][k], w) for k, w in weights.items()), f"{model} was re-initialised"
    assert seen["steps"] == total - 3, f"the re-run trained {seen['steps']} steps, not the {total - 3} left"
    assert namespace[history].done == total, f"{history}.done = {namespace[history].done}, expected {total}"
    assert not all(torch.equal(trained.state_dict()[k], w) for k, w in weights.items()), "the re-run trained nothing"


def test_vae_and_gan_loops_continue_after_an_interrupt(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path))  # no lesson 02 generator there: the GAN trains here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    cells = _code_cells()
    vae_loop = next(i for i, (_, source) in enumerate(cells) if "for step in steps(STEPS" in source)
    gan_loop = next(i for i, (_, source) in enumerate(cells) if "for step in steps(GAN_STEPS" in source)
    namespace: dict = {"__name__": "__main__"}
    for cell in cells[:vae_loop]:
        _run(namespace, cell)
    _interrupt_then_rerun(namespace, cells[vae_loop], "reparameterize", "vae", "vae_history", namespace["STEPS"])
    for cell in cells[vae_loop + 1:gan_loop]:
        _run(namespace, cell)
    _interrupt_then_rerun(namespace, cells[gan_loop], "generator_loss", "generator", "gan_history",
                          namespace["GAN_STEPS"])


# --- no answer beside an exercise ------------------------------------------------------------

def test_the_student_lesson_states_no_answer_beside_its_exercises():
    lesson = Path(__file__).resolve().parents[1] / "lessons" / "07_vae_vs_gan.ipynb"
    text = "\n".join(cell.source for cell in nbformat.read(lesson, as_version=4).cells)
    for answer in ("−½ (1 + log σ² − μ² − σ²)", "-0.5 * (1 + logvar", "torch.exp(0.5 * logvar)", "randn_like(std)"):
        assert answer not in text, f"the student's lesson shows {answer!r}"
