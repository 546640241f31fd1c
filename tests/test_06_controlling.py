"""Lesson 06: conditional and InfoGAN models and their sampling, the consistency loss, code accuracy,
checks, the lesson's training loops (an interrupt, then a re-run, continues) and its benchmark."""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
import torch
from torch.nn import functional as F

from helpers import augment, losses, metrics, models
from helpers.checkpoints import read_checkpoint
from helpers.checks import lesson06
from helpers.taught import lesson03 as taught03
from helpers.taught import lesson06 as taught06
from interrupting import InterruptingBatches

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "06_controlling_gans.ipynb"
sys.path.insert(0, str(ROOT / "benchmarks"))
SMALL = dict(hidden_dim=16, image_shape=(1, 8, 8))


def reference_mutual_information_loss(category_logits, category, continuous_pred, continuous, continuous_weight):
    return F.cross_entropy(category_logits, category) + continuous_weight * F.mse_loss(continuous_pred, continuous)


# --- models ---------------------------------------------------------------------------------

def test_conditional_generator_shapes_and_parameter_count():
    g = taught06.ConditionalGenerator(latent_dim=5, num_classes=10, embed_dim=4, **SMALL)
    out = g(torch.randn(6, 5), torch.arange(6))
    assert out.shape == (6, 1, 8, 8) and out.min() >= -1 and out.max() <= 1
    # embedding 10*4; Linear 9->16; BN 16; Linear 16->32; BN 32; Linear 32->64
    expected = 40 + (9 * 16 + 16) + 32 + (16 * 32 + 32) + 64 + (32 * 64 + 64)
    assert models.count_parameters(g) == expected


def test_conditional_models_use_the_label():
    torch.manual_seed(0)
    g = taught06.ConditionalGenerator(latent_dim=5, num_classes=10, embed_dim=4, **SMALL).eval()
    d = taught06.ConditionalDiscriminator(num_classes=10, **SMALL).eval()
    noise, images = torch.randn(4, 5), torch.rand(4, 1, 8, 8)
    a, b = torch.tensor([0, 1, 2, 3]), torch.tensor([4, 5, 6, 7])
    assert not torch.allclose(g(noise, a), g(noise, b))
    assert d(images, a).shape == (4, 1)
    assert not torch.allclose(d(images, a), d(images, b))
    # the same as the projection written out by hand
    features = d.body(images)
    manual = d.out(features) + torch.einsum("nh,nh->n", d.label_embedding(a), features).unsqueeze(1)
    assert torch.allclose(d(images, a), manual)


@pytest.mark.parametrize("labels", [torch.tensor([0, 10]), torch.tensor([0.0, 1.0]), torch.tensor([0, 1, 2])])
def test_conditional_models_reject_bad_labels(labels):
    g = taught06.ConditionalGenerator(latent_dim=5, **SMALL)
    with pytest.raises(ValueError, match="labels"):
        g(torch.randn(2, 5), labels)
    d = taught06.ConditionalDiscriminator(**SMALL)
    with pytest.raises(ValueError, match="labels"):
        d(torch.rand(2, 1, 8, 8), labels)


def test_the_layers_alone_have_no_forward():
    """helpers.models holds what lesson 06's exercise does not hand over: the layers, not the forward."""
    with pytest.raises(NotImplementedError, match="forward"):
        models.ConditionalGenerator(latent_dim=5, **SMALL)(torch.randn(2, 5), torch.tensor([0, 1]))
    with pytest.raises(NotImplementedError, match="forward"):
        models.InfoDiscriminator(**SMALL)(torch.rand(2, 1, 8, 8))


def test_bad_sizes_are_errors():
    with pytest.raises(ValueError, match="hidden_dim"):
        models.ConditionalGenerator(hidden_dim=0)
    with pytest.raises(ValueError, match="image_shape"):
        models.InfoDiscriminator(image_shape=(28, 28))
    with pytest.raises(ValueError, match="dropout"):
        models.ConditionalDiscriminator(dropout=1.5)


def test_info_models_shapes_and_q_head_split():
    torch.manual_seed(0)
    g = models.InfoGenerator(noise_dim=7, num_categories=4, num_continuous=3, **SMALL)
    d = taught06.InfoDiscriminator(num_categories=4, num_continuous=3, **SMALL).eval()
    noise, category, continuous = models.sample_info_latent(5, 7, 4, 3)
    assert noise.shape == (5, 7) and category.shape == (5,) and continuous.shape == (5, 3)
    assert category.dtype == torch.long and continuous.abs().max() <= 1
    images = g(noise, category, continuous)
    assert images.shape == (5, 1, 8, 8)
    logit, category_logits, continuous_pred = d(images)
    assert (logit.shape, category_logits.shape, continuous_pred.shape) == ((5, 1), (5, 4), (5, 3))
    q = d.q_head(d.body(images))
    assert torch.allclose(torch.cat([category_logits, continuous_pred], 1), q)
    assert torch.allclose(logit, d.d_head(d.body(images)))


def test_info_generator_feeds_a_one_hot_category():
    g = models.InfoGenerator(noise_dim=3, num_categories=4, num_continuous=2, **SMALL)
    first = g.net[0]
    assert first.in_features == 3 + 4 + 2 == g.latent_dim
    with pytest.raises(ValueError, match="continuous"):
        g(torch.randn(2, 3), torch.tensor([0, 1]), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="category"):
        g(torch.randn(2, 3), torch.tensor([0, 4]), torch.zeros(2, 2))


# --- sampling -------------------------------------------------------------------------------

def test_generate_samples_in_eval_mode_without_gradients_and_leaves_train_mode():
    torch.manual_seed(0)
    g = models.InfoGenerator(noise_dim=3, num_categories=4, num_continuous=2, **SMALL)
    noise, category, continuous = models.sample_info_latent(5, 3, 4, 2)
    g(noise, category, continuous)                 # one training-mode pass: BatchNorm's statistics move
    images = taught03.generate(g, noise, category, continuous)
    assert g.training and not images.requires_grad
    g.eval()
    assert torch.allclose(images, g(noise, category, continuous))   # eval mode: running statistics
    g.train()
    assert not torch.allclose(images, g(noise, category, continuous))
    taught03.generate(g.eval(), noise, category, continuous)
    assert not g.training                          # put back in the mode it was in


def test_code_grid_rows_are_codes_with_the_same_latent_in_each_column():
    g = models.InfoGenerator(noise_dim=3, num_categories=4, num_continuous=2, **SMALL)
    grid = models.code_grid(g, per_code=5, seed=1)
    assert grid.shape == (20, 1, 8, 8)
    assert torch.equal(grid, models.code_grid(g, per_code=5, seed=1))            # repeatable
    assert not torch.allclose(grid[:5], grid[5:10])                              # codes 0 and 1 differ
    assert not torch.allclose(grid[0], grid[1])                                  # columns differ
    noise, _, continuous = models.sample_info_latent(5, 3, 4, 2, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(grid[5:10], taught03.generate(g, noise, torch.ones(5, dtype=torch.long), continuous))


def test_traversal_moves_one_continuous_code_only():
    g = models.InfoGenerator(noise_dim=3, num_categories=4, num_continuous=2, **SMALL)
    rows = models.traversal(g, code_index=1, category=2, seed=3, steps=5)
    assert rows.shape == (5, 1, 8, 8)
    noise, _, continuous = models.sample_info_latent(1, 3, 4, 2, generator=torch.Generator().manual_seed(3))
    swept = continuous.repeat(5, 1)
    swept[:, 1] = torch.linspace(-2, 2, 5)
    assert torch.allclose(rows, taught03.generate(g, noise.repeat(5, 1), torch.full((5,), 2), swept))


# --- consistency loss -----------------------------------------------------------------------

def test_category_consistency_loss_hand_value():
    # two images, two categories; p = softmax([0, 0]) = (1/2, 1/2) and softmax([ln 3, 0]) = (3/4, 1/4)
    logits = torch.tensor([[0.0, 0.0], [torch.log(torch.tensor(3.0)), 0.0]])
    moved = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    kl = (0.0 + (0.75 * torch.log(torch.tensor(0.75 / 0.5)) + 0.25 * torch.log(torch.tensor(0.25 / 0.5)))) / 2
    mean_p = torch.tensor([0.625, 0.375])                 # batch mean of Q's guesses on the originals
    h_p = -(mean_p * mean_p.log()).sum()
    h_moved = torch.log(torch.tensor(2.0))               # the moved copies' mean guess is (1/2, 1/2)
    got = losses.category_consistency_loss(logits, moved, balance_weight=0.5)
    assert torch.isclose(got, kl - 0.5 * (h_p + h_moved) / 2, atol=1e-6)


def test_category_consistency_loss_rewards_agreement_and_balance():
    sure = torch.eye(4).repeat(2, 1) * 10                # 8 images, confident, every category twice
    assert losses.category_consistency_loss(sure, sure, balance_weight=0.0).abs() < 1e-3
    assert losses.category_consistency_loss(sure, sure.roll(1, dims=1), balance_weight=0.0) > 5
    one_category = torch.zeros(8, 4)
    one_category[:, 0] = 10
    balanced = losses.category_consistency_loss(sure, sure)
    lopsided = losses.category_consistency_loss(one_category, one_category)
    assert torch.isclose(balanced, -torch.log(torch.tensor(4.0)), atol=1e-3) and lopsided > balanced + 1


def test_category_consistency_loss_trains_only_through_the_moved_copies_kl():
    logits = torch.randn(5, 3, requires_grad=True)
    moved = torch.randn(5, 3, requires_grad=True)
    losses.category_consistency_loss(logits, moved, balance_weight=0.0).backward()
    assert logits.grad is None or torch.all(logits.grad == 0)     # the original's guess is the target
    assert moved.grad.abs().sum() > 0


def test_category_consistency_loss_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(N, K\).*\(4, 3\) and \(4, 2\)"):
        losses.category_consistency_loss(torch.zeros(4, 3), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="balance_weight"):
        losses.category_consistency_loss(torch.zeros(4, 3), torch.zeros(4, 3), balance_weight=-1)


def test_random_affine_keeps_shape_and_range_and_is_repeatable():
    images = torch.rand(6, 1, 28, 28) * 2 - 1
    a = augment.random_affine(images, generator=torch.Generator().manual_seed(3))
    b = augment.random_affine(images, generator=torch.Generator().manual_seed(3))
    assert a.shape == images.shape and torch.equal(a, b)
    assert a.min() >= -1 - 1e-6 and a.max() <= 1 + 1e-6
    assert not torch.allclose(a, images, atol=1e-2)


def test_random_affine_without_moves_is_the_identity_and_a_shift_moves_pixels():
    images = torch.rand(3, 1, 10, 10) * 2 - 1
    same = augment.random_affine(images, degrees=0, shift=0, scale=0)
    assert torch.allclose(same, images, atol=1e-5)
    dot = torch.full((1, 1, 9, 9), -1.0)
    dot[0, 0, 4, 4] = 1.0
    moved = augment.random_affine(dot, degrees=0, shift=2, scale=0, generator=torch.Generator().manual_seed(0))
    assert moved[0, 0, 4, 4] < 1.0                       # the bright pixel has left the centre...
    assert torch.isclose(moved.sum() - (-81), torch.tensor(2.0), atol=0.05)   # ...and kept its mass
    assert torch.allclose(moved[0, 0, 0, :], torch.tensor(-1.0))       # what comes in is background


@pytest.mark.parametrize("kwargs, message", [
    (dict(images=torch.zeros(28, 28)), r"\(N, C, H, W\).*\(28, 28\)"),
    (dict(images=torch.zeros(2, 1, 4, 4, dtype=torch.uint8)), "float"),
    (dict(images=torch.zeros(2, 1, 4, 4), scale=1.0), "scale"),
    (dict(images=torch.zeros(2, 1, 4, 4), degrees=-5), "degrees"),
])
def test_random_affine_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        augment.random_affine(**kwargs)


# --- metrics --------------------------------------------------------------------------------

def test_categorical_code_accuracy_finds_the_permutation():
    classes = torch.arange(10).repeat_interleave(5)
    permutation = torch.tensor([3, 7, 0, 1, 9, 2, 8, 4, 6, 5])
    codes = permutation[classes]               # code k always means class permutation^-1(k)
    accuracy, mapping = metrics.categorical_code_accuracy(codes, classes)
    assert accuracy == 1.0
    assert all(permutation[mapping[k]] == k for k in range(10))


def test_categorical_code_accuracy_one_to_one():
    # two codes both draw class 0: only one of them can be matched to it
    codes = torch.tensor([0, 0, 1, 1])
    predicted = torch.tensor([0, 0, 0, 0])
    accuracy, mapping = metrics.categorical_code_accuracy(codes, predicted, 2, 2)
    assert accuracy == 0.5 and sorted(mapping.values()) == [0, 1]
    with pytest.raises(ValueError, match="same"):
        metrics.categorical_code_accuracy(torch.tensor([0, 1]), torch.tensor([0]))
    with pytest.raises(ValueError, match="0..9"):
        metrics.categorical_code_accuracy(torch.tensor([0, 12]), torch.tensor([0, 1]))


def test_conditional_accuracy_per_class():
    requested = torch.tensor([0, 0, 1, 1, 1, 1])
    predicted = torch.tensor([0, 1, 1, 1, 1, 0])
    accuracy, per_class = metrics.conditional_accuracy(requested, predicted, num_classes=3)
    assert accuracy == pytest.approx(4 / 6)
    assert per_class[:2].tolist() == [0.5, 0.75] and torch.isnan(per_class[2])
    with pytest.raises(ValueError, match="int64"):
        metrics.conditional_accuracy(requested.float(), predicted)


def test_within_code_spread_sees_a_collapsed_generator():
    codes = torch.arange(3).repeat_interleave(4)                                # (12,)
    collapsed = torch.linspace(-1, 1, 3).view(3, 1, 1, 1).repeat_interleave(4, 0).expand(12, 1, 2, 2)
    spread = metrics.within_code_spread(collapsed.contiguous(), codes, num_codes=4)
    assert spread[:3].tolist() == [0.0, 0.0, 0.0] and torch.isnan(spread[3])   # code 3 drew no image
    # two images per code, pixels -1 and 1: std (unbiased) sqrt(2) in every pixel
    varied = torch.tensor([-1.0, 1.0]).repeat(3).view(6, 1, 1, 1).expand(6, 1, 2, 2)
    spread = metrics.within_code_spread(varied.contiguous(), torch.arange(3).repeat_interleave(2), 3)
    assert spread.tolist() == pytest.approx([2 ** 0.5] * 3)


@pytest.mark.parametrize("images, codes, message", [
    (torch.zeros(4, 28, 28), torch.zeros(4, dtype=torch.long), "shape \\(N, C, H, W\\)"),
    (torch.zeros(4, 1, 2, 2, dtype=torch.long), torch.zeros(4, dtype=torch.long), "float"),
    (torch.zeros(4, 1, 2, 2), torch.zeros(3, dtype=torch.long), "shape \\(4,\\)"),
    (torch.zeros(4, 1, 2, 2), torch.zeros(4), "int64"),
    (torch.zeros(4, 1, 2, 2), torch.tensor([0, 1, 2, 10]), "0..9"),
])
def test_within_code_spread_rejects_bad_input(images, codes, message):
    with pytest.raises(ValueError, match=message):
        metrics.within_code_spread(images, codes)


# --- checks: they pass on the reference and fail, with a reason, on broken code ---------------

def test_checks_pass_on_reference(capsys):
    lesson06.check_label_conditioning(taught06.ConditionalGenerator, taught06.ConditionalDiscriminator)
    lesson06.check_q_head(taught06.InfoDiscriminator)
    lesson06.check_mutual_information_loss(reference_mutual_information_loss)
    assert capsys.readouterr().out.count("✅") == 3


class _IgnoresLabel(models.ConditionalGenerator):
    def forward(self, noise, labels):
        zeros = torch.zeros(noise.shape[0], self.label_embedding.embedding_dim)
        return self.net(torch.cat([noise, zeros], 1)).view(-1, *self.image_shape)


class _NoUnconditionalTerm(models.ConditionalDiscriminator):
    def forward(self, images, labels):
        features = self.body(images)
        return (self.label_embedding(labels) * features).sum(1, keepdim=True)


class _SoftmaxQ(models.InfoDiscriminator):
    def forward(self, images):
        features = self.body(images)
        category_logits, continuous = self.q_head(features).split([self.num_categories, self.num_continuous], 1)
        return self.d_head(features), category_logits.softmax(1), continuous


class _Stub(models.InfoDiscriminator):
    def forward(self, images):
        raise NotImplementedError("Exercise")


@pytest.mark.parametrize("call, message", [
    (lambda: lesson06.check_label_conditioning(_IgnoresLabel, taught06.ConditionalDiscriminator), "ignores"),
    (lambda: lesson06.check_label_conditioning(taught06.ConditionalGenerator, _NoUnconditionalTerm), "projection"),
    (lambda: lesson06.check_q_head(_SoftmaxQ), "probabilities"),
    (lambda: lesson06.check_q_head(_Stub), "not written yet"),
    (lambda: lesson06.check_mutual_information_loss(
        lambda l, c, p, s, w: F.cross_entropy(l.softmax(1), c) + w * F.mse_loss(p, s)), "softmax"),
    (lambda: lesson06.check_mutual_information_loss(
        lambda l, c, p, s, w: F.cross_entropy(l, c) + F.mse_loss(p, s)), "continuous_weight"),
])
def test_checks_fail_with_a_reason(call, message):
    with pytest.raises(AssertionError, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: lesson06.check_mutual_information_loss(
        lambda l, c, p, s, w: F.cross_entropy(l, c) + w * ((p - s) ** 2).sum(1).mean()), "summed"),
    (lambda: lesson06.check_mutual_information_loss(
        lambda l, c, p, s, w: -reference_mutual_information_loss(l, c, p, s, w)), "sign"),
    (lambda: lesson06.check_mutual_information_loss(lambda l, c, p, s, w: F.cross_entropy(l, c)), "missing"),
])
def test_mutual_information_check_names_more_mistakes(call, message):
    with pytest.raises(AssertionError, match=message):
        call()


# --- the lesson's training loops: an interrupt, then a re-run, continues ----------------------

def tagged_sources(tag: str) -> list[str]:
    from IPython.core.inputtransformer2 import TransformerManager
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return [TransformerManager().transform_cell(c.source) for c in nb.cells
            if c.cell_type == "code" and tag in c.metadata.get("tags", [])]


@pytest.fixture
def lesson(tmp_path, monkeypatch):
    """The lesson's shared cells (tagged bench), at a tiny size, writing to tmp_path."""
    from inprocess import notebook_namespace
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path))
    monkeypatch.setenv("GAN_COURSE_SMOKE", "1")
    return notebook_namespace(NOTEBOOK, smoke=True, parameters=dict(
        STEPS=6, INFO_STEPS=6, BATCH_SIZE=16, EVAL_EVERY=4, EVAL_SAMPLES=2, device=torch.device("cpu")))


def test_cgan_loop_continues_after_an_interrupt(lesson):
    build, loop = tagged_sources("bench-cgan")
    exec(build, lesson)
    generator, g_optimizer, batches = lesson["generator"], lesson["g_optimizer"], lesson["batches"]
    lesson["batches"] = InterruptingBatches(batches, at=3)
    exec(loop, lesson)                                          # Ctrl-C during step 3: stops after it
    assert lesson["history"].done == 3
    weights = [p.detach().clone() for p in generator.parameters()]
    lesson["batches"] = batches
    exec(loop, lesson)                                          # the same cell again: continues
    assert lesson["history"].done == 6 and lesson["generator"] is generator
    assert g_optimizer.state[next(generator.parameters())]["step"] == 6    # one optimizer, six steps
    assert lesson["averaged"].n_averaged == 6
    assert any(not torch.equal(a, b) for a, b in zip(weights, generator.parameters()))
    assert lesson["history"].steps("d_loss")[-1] == 5
    # the averaged generator is saved as a plain generator's weights
    saved = read_checkpoint(lesson["RUN_DIR"] / "cgan.pt")
    plain = models.ConditionalGenerator(latent_dim=lesson["LATENT_DIM"], hidden_dim=lesson["HIDDEN_DIM"],
                                        image_shape=lesson["IMAGE_SHAPE"])
    plain.load_state_dict(saved["ema_generator"])
    assert saved["step"] == 6


def test_infogan_training_continues_after_an_interrupt(lesson):
    build, train = tagged_sources("bench-infogan")
    exec(build, lesson)
    run = lesson["infogan"]
    batches = run["batches"]
    run["batches"] = InterruptingBatches(batches, at=2)
    exec(train, lesson)
    assert run["history"].done == 2
    run["batches"] = batches
    exec(train, lesson)
    assert lesson["infogan"] is run and run["history"].done == 6
    assert run["g_optimizer"].state[next(run["generator"].parameters())]["step"] == 6
    assert run["history"].steps("code_accuracy") == [3, 5]     # EVAL_EVERY = 4, and the last step
    plain = models.InfoGenerator(lesson["NOISE_DIM"], 10, lesson["NUM_CONTINUOUS"], lesson["HIDDEN_DIM"],
                                 lesson["IMAGE_SHAPE"])
    plain.load_state_dict(read_checkpoint(lesson["RUN_DIR"] / "infogan.pt")["ema_generator"])


def test_naive_run_is_infogan_with_both_terms_off(lesson):
    """With info_weight = consistency_weight = 0 the Q head gets no update: the plain GAN loss only."""
    lesson["EVAL_EVERY"] = 100
    naive = lesson["new_infogan"]()
    q_head = [p.detach().clone() for p in naive["discriminator"].q_head.parameters()]
    lesson["train_infogan"](**naive, num_steps=3, info_weight=0.0, consistency_weight=0.0, name="naive")
    assert all(torch.equal(a, b) for a, b in zip(q_head, naive["discriminator"].q_head.parameters()))
    assert naive["history"].done == 3


# --- the benchmark runs the lesson's cells --------------------------------------------------

def test_bench_06_smoke_with_overrides(monkeypatch, capsys, tmp_path):
    import bench_06_control as bench
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path))
    seen = []
    real_run = bench.run_lesson
    monkeypatch.setattr(bench, "run_lesson", lambda p, seed, model: seen.append((dict(p), seed)) or real_run(
        p | {"BATCH_SIZE": 16, "device": torch.device("cpu")}, seed, model))
    assert bench.main(["--smoke", "--cgan-seeds", "--info-seeds", "1", "--set", "CONSISTENCY_WEIGHT=0",
                       "INFO_WEIGHT=2"]) == 0
    out = capsys.readouterr().out
    assert "infogan seed 1:" in out and "overrides: CONSISTENCY_WEIGHT=0 INFO_WEIGHT=2" in out
    (p, seed), = seen
    assert seed == 1 and p["CONSISTENCY_WEIGHT"] == 0.0 and p["INFO_WEIGHT"] == 2.0 and p["INFO_STEPS"] == 20
    assert (tmp_path / "06_controlling_gans" / "bench_smoke.json").is_file()
    with pytest.raises(SystemExit, match="NO_SUCH"):
        bench.main(["--smoke", "--set", "NO_SUCH=1"])


# --- the text: sources named, no answer beside an exercise, the INFO_WEIGHT question rebuilds ----------

def test_the_text_names_its_sources_gives_no_answer_and_rebuilds_for_the_question():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Mirza & Osindero" in prose and "Odena et al." in prose
    assert "losses.mutual_information_loss" not in prose and not hasattr(losses, "mutual_information_loss")
    at = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "def mutual_information_loss" in c.source)
    around = nb.cells[at - 1].source + nb.cells[at + 1].source  # the exercise's text and its check cell
    for answer in ("CE(", "MSE(", "cross_entropy", "mse_loss", "\\text{CE}"):
        assert answer not in around, f"the exercise's neighbours give away {answer!r}"
    question = next(c.source for c in nb.cells if c.cell_type == "markdown" and "INFO_WEIGHT = 0" in c.source)
    builder = next(c.source for c in nb.cells if c.cell_type == "code" and "def new_infogan" in c.source)
    assert "new_infogan()" in question and "helpers.runtime.seed_everything(SEED)" in builder  # fresh, seeded models
