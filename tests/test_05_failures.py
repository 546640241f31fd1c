"""Lesson 05: the mixtures, the checks, and the notebook's own metric, losses, models and training loop."""
from __future__ import annotations

import math
import os
import signal
import sys
from pathlib import Path

import nbformat
import pytest
import torch
from torch import nn

from helpers import toy_data
from helpers.checks import CheckFailed, lesson05 as checks05
from helpers.runtime import ParameterError
from helpers.training import History

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))  # inprocess.py runs the notebook's own cells (benchmarks/ is not a package)


# --- data --------------------------------------------------------------------------------------

def test_ring_centres_and_spread():
    points, centres = toy_data.gaussian_ring(4000, generator=torch.Generator().manual_seed(0))
    assert points.shape == (4000, 2) and centres.shape == (8, 2)
    assert torch.allclose(centres.norm(dim=1), torch.full((8,), 2.0), atol=1e-6)
    assert torch.allclose(centres[2], torch.tensor([0.0, 2.0]), atol=1e-6)  # 90° apart every 2 modes
    nearest = torch.cdist(points, centres).min(dim=1).values
    # 2-D Gaussian: distance to its centre is Rayleigh, mean σ·sqrt(π/2)
    assert abs(nearest.mean().item() - 0.02 * math.sqrt(math.pi / 2)) < 0.002


def test_grid_centres():
    points, centres = toy_data.gaussian_grid(100, generator=torch.Generator().manual_seed(0))
    assert points.shape == (100, 2) and centres.shape == (25, 2)
    assert set(centres[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    assert torch.cdist(points, centres).min(dim=1).values.max() < 0.05 * 5


@pytest.mark.parametrize("sampler", [toy_data.gaussian_ring, toy_data.gaussian_grid])
def test_centres_are_handed_out_as_copies(sampler):
    """A caller's edit of the centres stays its own."""
    _, centres = sampler(5)
    expected = centres.clone()
    centres += 100.0
    _, again = sampler(5)
    assert torch.equal(again, expected), "editing returned centres must not change the next call's"
    points, _ = sampler(2000, generator=torch.Generator().manual_seed(0))
    assert torch.cdist(points, expected).min(dim=1).values.max() < 0.5, "points come from the unedited centres"


def test_samplers_are_seeded():
    a = toy_data.gaussian_ring(10, generator=torch.Generator().manual_seed(3))[0]
    b = toy_data.gaussian_ring(10, generator=torch.Generator().manual_seed(3))[0]
    assert torch.equal(a, b)


def test_mixture_sampler_has_its_own_seeded_stream():
    torch.manual_seed(0)
    first = toy_data.mixture_sampler("grid25", seed=5)
    a = torch.cat([first(3), first(4)])
    torch.manual_seed(1)                               # the global stream does not matter
    second = toy_data.mixture_sampler("grid25", seed=5)
    b = torch.cat([second(3), second(4)])
    assert a.shape == (7, 2) and torch.equal(a, b)
    assert not torch.equal(first(3), a[:3]), "each call draws new points from the stream"
    assert not torch.equal(b, toy_data.mixture_sampler("grid25", seed=6)(7))
    _, centres = toy_data.MIXTURES["grid25"][0](1)
    assert torch.cdist(b, centres).min(dim=1).values.max() < 5 * toy_data.MIXTURES["grid25"][1]


@pytest.mark.parametrize("sampler", [toy_data.gaussian_ring, toy_data.gaussian_grid])
@pytest.mark.parametrize("n", [0, 2.5])
def test_mixtures_refuse_a_number_of_points_that_is_not_a_positive_int(sampler, n):
    with pytest.raises(ValueError, match="n must be a positive int"):
        sampler(n)


# --- the lesson's own code (its cells tagged `bench`, run in smoke mode) -------------------------------

@pytest.fixture(scope="module")
def lesson05():
    """The cells of lesson 05 tagged `bench` (parameters, metric, losses, models, make_run, train), in smoke mode."""
    from inprocess import notebook_namespace
    previous = os.environ.get("GAN_COURSE_SMOKE")
    try:
        yield notebook_namespace(ROOT / "solutions" / "05_gan_failures.ipynb", smoke=True,
                                 parameters={"device": torch.device("cpu")})
    finally:
        if previous is None:
            os.environ.pop("GAN_COURSE_SMOKE", None)
        else:
            os.environ["GAN_COURSE_SMOKE"] = previous


def test_mode_coverage_by_hand(lesson05):
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    points = torch.tensor([[0.05, 0.0]] * 50          # 3σ = 0.06: close to mode 0
                          + [[10.0, 0.059]] * 1       # close to mode 1, only 1 point (1% of 100): covered
                          + [[0.0, 10.07]] * 30       # 0.07 > 0.06: not close to mode 2
                          + [[5.0, 5.0]] * 19)        # far from everything
    modes, high_quality = lesson05["mode_coverage"](points, centres, 0.02)
    assert modes == 2 and high_quality == pytest.approx(0.51)


def test_real_ring_scores_full_marks(lesson05):
    points, centres = toy_data.gaussian_ring(10_000, generator=torch.Generator().manual_seed(0))
    modes, high_quality = lesson05["mode_coverage"](points, centres, 0.02)
    assert modes == 8 and high_quality == pytest.approx(1 - math.exp(-4.5), abs=0.005)


def test_wgan_losses_by_hand(lesson05):
    real, fake = torch.tensor([[1.0], [3.0]]), torch.tensor([[-1.0], [0.0]])
    assert lesson05["critic_loss"](real, fake).item() == pytest.approx(-0.5 - 2.0)
    assert lesson05["generator_loss"](fake).item() == pytest.approx(0.5)


def test_gradient_penalty_linear_critic(lesson05):
    critic = nn.Linear(2, 1)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))  # ‖∇C‖ = 5 everywhere
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    penalty = lesson05["gradient_penalty"](critic, real, fake)
    assert penalty.item() == pytest.approx((5 - 1) ** 2)
    penalty.backward()  # create_graph: the penalty reaches the critic's weights
    # d/dw (‖w‖ - 1)² = 2 (‖w‖ - 1) w / ‖w‖ = 2·4·(3, 4)/5
    assert torch.allclose(critic.weight.grad, torch.tensor([[4.8, 6.4]]), atol=1e-5)


def test_gradient_penalty_uses_epsilon(lesson05):
    critic = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    real, fake = torch.randn(4, 2), torch.randn(4, 2)
    at_real = lesson05["gradient_penalty"](critic, real, fake, torch.ones(4, 1))
    at_fake = lesson05["gradient_penalty"](critic, real, fake, torch.zeros(4, 1))

    def penalty_at(points):  # (‖∇C(x)‖ - 1)² averaged over the given points, by hand
        points = points.clone().requires_grad_(True)
        grad, = torch.autograd.grad(critic(points).sum(), points)
        return ((grad.norm(dim=1) - 1) ** 2).mean().item()

    # x̂ = ε·x + (1 - ε)·G(z): ε = 1 is the reals, ε = 0 the fakes (not the other way round)
    assert at_real.item() == pytest.approx(penalty_at(real)) and at_fake.item() == pytest.approx(penalty_at(fake))
    assert at_real.item() != pytest.approx(at_fake.item())


# --- checks: pass on the lesson's answers, fail on the usual mistakes ------------------------------

def test_checks_pass_on_the_solution(lesson05, capsys):
    checks05.check_gradient_penalty(lesson05["gradient_penalty"])
    checks05.check_wgan_losses(lesson05["critic_loss"], lesson05["generator_loss"])
    checks05.check_mode_coverage(lesson05["mode_coverage"])
    assert capsys.readouterr().out.count("✅") == 3


def _penalty_squared_norm(critic, real, fake, epsilon):
    mixed = (epsilon * real + (1 - epsilon) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return ((grad.pow(2).sum(1) - 1) ** 2).mean()


def _penalty_no_graph(critic, real, fake, epsilon):
    mixed = (epsilon * real + (1 - epsilon) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(critic(mixed).sum(), mixed)
    return ((grad.norm(2, dim=1) - 1) ** 2).mean()


@pytest.mark.parametrize("wrong, message", [(_penalty_squared_norm, "squared norm"),
                                            (_penalty_no_graph, "create_graph")])
def test_gradient_penalty_check_explains(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks05.check_gradient_penalty(wrong)


def test_wgan_check_catches_sign():
    with pytest.raises(CheckFailed, match="sign"):
        checks05.check_wgan_losses(lambda r, f: r.mean() - f.mean(), lambda f: -f.mean())


@pytest.mark.parametrize("critic_loss, generator_loss, message", [
    (lambda r, f: (f - r).abs().mean(), lambda f: -f.mean(), "absolute value"),
    (lambda r, f: nn.functional.binary_cross_entropy_with_logits(r, torch.ones_like(r))
     + nn.functional.binary_cross_entropy_with_logits(f, torch.zeros_like(f)), lambda f: -f.mean(), "BCE"),
    (lambda r, f: f.mean() - r.mean(), lambda f: f.mean(), "generator loss .* wrong sign"),
    (lambda r, f: f.mean() - r.mean(), lambda f: f.sum(), "generator loss"),
])
def test_wgan_check_names_the_mistake_without_the_formula(critic_loss, generator_loss, message):
    with pytest.raises(CheckFailed, match=message) as failure:
        checks05.check_wgan_losses(critic_loss, generator_loss)
    assert "mean C(G(z))" not in str(failure.value) and ".mean()" not in str(failure.value)


def test_mode_check_catches_any_point_counts():
    def lenient(points, centres, std):
        distance, nearest = torch.cdist(points, centres).min(dim=1)
        close = distance <= 3 * std
        return int(torch.bincount(nearest[close], minlength=len(centres)).gt(0).sum()), close.float().mean().item()
    with pytest.raises(CheckFailed, match="1%"):
        checks05.check_mode_coverage(lenient)


def test_check_reports_unwritten_exercise():
    def stub(*args):
        raise NotImplementedError
    with pytest.raises(CheckFailed, match="not written yet"):
        checks05.check_mode_coverage(stub)


# --- pictures and widgets ------------------------------------------------------------------------

def test_density_grid_draws():
    from helpers.plotting import density_grid
    points, centres = toy_data.gaussian_ring(500)
    fig = density_grid([[("a", points), ("b", points)], [("c", points)]], 2.6, centres=centres)
    assert len(fig.axes) >= 4
    with pytest.raises(ValueError):
        density_grid([], 2.6)


def test_method_picker_builds_and_validates():
    pytest.importorskip("ipywidgets")
    from helpers.widgets import method_picker
    calls = []
    controls = method_picker(lambda m, lr, k: calls.append((m, lr, k)), ["gan", "wgan_gp"], lr=1e-3)
    controls["method"].value = "wgan_gp"
    controls["d_steps"].value = 3
    controls["train"].click()
    assert calls == [("wgan_gp", pytest.approx(1e-3), 3)]
    with pytest.raises(ValueError, match="lr"):
        method_picker(print, ["gan"], lr=1.0)


def test_slope_map_draws_the_gradient_of_log_d_or_of_the_critic():
    from helpers.diagrams import slope_map
    _, centres = toy_data.gaussian_ring(10)
    tilt = nn.Linear(2, 1)
    with torch.no_grad():
        tilt.weight.copy_(torch.tensor([[1.0, 0.0]])), tilt.bias.zero_()
    for critic in (False, True):
        fig = slope_map(tilt, 2.6, critic=critic, centres=centres, points=torch.zeros(5, 2), arrows=3, title="t")
        arrows = fig.axes[0].collections[0]  # the quiver: one arrow per grid point, all along +x
        assert len(arrows.U) == 9 and (arrows.U > 0).all() and (arrows.V == 0).all()
        if not critic:  # log D(x) = logsigmoid(x): steep where D says fake (x < 0), flat where it says real
            assert arrows.U[0] > 10 * arrows.U[2]
        else:           # a critic's score itself: the same slope everywhere
            assert arrows.U[0] == pytest.approx(arrows.U[2])
    with pytest.raises(ValueError, match=r"\(N, 2\) to \(N, 1\)"):
        slope_map(lambda x: x, 2.6)


def test_spectral_norm_map_leaves_the_power_iteration_alone(lesson05):
    from helpers.diagrams import slope_map
    _, discriminator = lesson05["make_models"]("spectral_norm")
    state = {k: v.clone() for k, v in discriminator.state_dict().items()}
    slope_map(discriminator, 2.6, arrows=3, resolution=4)
    assert discriminator.training
    assert all(torch.equal(state[k], v) for k, v in discriminator.state_dict().items())


def test_sn_scale_is_read_when_the_models_are_built(lesson05):
    """The lesson's SN_SCALE question: a new value set in a later cell reaches the next spectral-norm run."""
    ns = lesson05
    before = ns["SN_SCALE"]
    try:
        ns["SN_SCALE"] = 1.0
        assert ns["make_run"]("spectral_norm", "ring8", steps=2).discriminator.scale == 1.0
    finally:
        ns["SN_SCALE"] = before


def test_the_picker_trains_each_method_with_its_table_settings(lesson05, monkeypatch):
    """Picking a method moves the sliders to its row; Train then builds the run the table trained."""
    pytest.importorskip("ipywidgets")
    nb = nbformat.read(ROOT / "solutions" / "05_gan_failures.ipynb", as_version=4)
    source = next(c.source for c in nb.cells if c.cell_type == "code" and "def show_run" in c.source)
    built = []
    ns = dict(lesson05, real_ring=torch.zeros(10, 2), plt=type("P", (), {"show": staticmethod(lambda: None)}),
              ring_panel=lambda method, lr, d_steps, steps, n: built.append((method, lr, d_steps, steps, n))
              or ("title", torch.zeros(4, 2)))
    exec(compile(source, "show_run", "exec"), ns)
    picker = ns["picker"]
    for method, settings in ns["METHOD_SETTINGS"].items():
        picker["method"].value = method
        picker["train"].click()
        assert built[-1] == (method, pytest.approx(settings["lr"]), settings["d_steps"], None, ns["N_EVAL"])
        run = ns["make_run"](method, "ring8", steps=None, lr=picker["lr"].value, d_steps=picker["d_steps"].value)
        table = ns["make_run"](method, "ring8")
        assert (run.steps, run.d_steps, run.d_optimizer.param_groups[0]["initial_lr"]) == (
            table.steps, table.d_steps, table.d_optimizer.param_groups[0]["initial_lr"])


def test_each_fix_is_explained_just_before_its_own_run():
    nb = nbformat.read(ROOT / "solutions" / "05_gan_failures.ipynb", as_version=4)
    order = [("markdown", "## Vanishing gradients"), ("markdown", "## Mode collapse, live"),
             ("code", 'compare("gan")'), ("markdown", "## Sensitivity"), ("markdown", "## Fix 1:"),
             ("code", 'compare("wgan_gp")'), ("markdown", "## Fix 2:"), ("code", 'compare("spectral_norm")'),
             ("markdown", "## Fix 3:"), ("code", 'compare("ttur")'), ("markdown", "## Fix 4:"),
             ("code", 'compare("minibatch_std")'), ("markdown", "## Fix 5:"), ("code", 'compare("pacgan_sn")')]
    at = [next(i for i, c in enumerate(nb.cells) if c.cell_type == kind and text in c.source) for kind, text in order]
    assert at == sorted(at), list(zip(order, at))
    for fix in range(4, len(order), 2):  # nothing but the fix's own text and code between it and its run
        between = nb.cells[at[fix]:at[fix + 1]]
        assert not any("compare(" in c.source for c in between[:-1] if c.cell_type == "code")


# --- PacGAN, the grid run's settings, make_run's bad input, and a run that continues ---------------

@pytest.mark.parametrize("kwargs, message", [
    ({"method": "wgan"}, "method must be one of"),
    ({"method": "PacGAN"}, "method must be one of"),
    ({"dataset": "grid9"}, "dataset one of"),
    ({"steps": 0}, "steps must be a positive whole number"),
    ({"steps": -5}, "steps must be a positive whole number"),
    ({"steps": 2.5}, "steps must be a positive whole number"),
    ({"steps": True}, "steps must be a positive whole number"),
])
def test_make_run_rejects_bad_input(lesson05, kwargs, message):
    args = {"method": "gan", "dataset": "ring8", "steps": 2} | kwargs
    with pytest.raises(ValueError, match=message) as error:
        lesson05["make_run"](args.pop("method"), args.pop("dataset"), steps=args.pop("steps"))
    assert repr(list(kwargs.values())[0]) in str(error.value), "the message should name the value it got"


def test_pacgan_discriminator_judges_packs(lesson05):
    ns = lesson05
    _, discriminator = ns["make_models"]("pacgan")
    inner = discriminator[-1]                     # lesson 01's D on packs: (N / PACK, 2·PACK) -> (N / PACK, 1)
    points = torch.randn(3 * ns["PACK"], 2)
    out = discriminator(points)
    assert out.shape == (3, 1)
    # pack i is points PACK·i ... PACK·i + PACK - 1 side by side, in order
    expected = inner(torch.cat([points[k::ns["PACK"]] for k in range(ns["PACK"])], dim=1))
    assert torch.allclose(out, expected)
    with pytest.raises(RuntimeError):           # a batch that is not whole packs
        discriminator(torch.randn(3 * ns["PACK"] + 1, 2))


def test_minibatch_std_discriminator_sees_the_batch_spread(lesson05):
    ns = lesson05
    _, discriminator = ns["make_models"]("minibatch_std")
    points = torch.randn(16, 2)
    alone = discriminator(points[:1].repeat(2, 1))[0]          # the same point, in a batch of identical points
    mixed = discriminator(torch.cat([points[:1], points[1:]]))[0]  # ... and in a spread-out batch
    assert not torch.allclose(alone, mixed), "D's output for a point should depend on the batch's spread"
    h = torch.randn(5, 3)
    assert torch.allclose(ns["MinibatchStd"]()(h), torch.cat([h, h.std(dim=0).mean().expand(5, 1)], dim=1))


def test_pacgan_and_the_grid_settings_train(lesson05):
    ns = lesson05
    run = ns["train"](ns["make_run"]("pacgan", "grid25", steps=3, batch_size=4 * ns["PACK"], output_scale=4.0))
    assert run.history.done == 3
    assert run.discriminator[-1].net[0].in_features == 2 * ns["PACK"]  # D judges packs of PACK points
    noise = torch.randn(5, ns["LATENT_DIM"])
    with torch.no_grad():   # G's output is the base generator's times the scale
        assert torch.allclose(run.generator(noise), 4.0 * run.generator.module(noise))
    points, modes, high_quality = ns["evaluate"](run.generator, "grid25", n=200)
    assert points.shape == (200, 2) and 0 <= modes <= 25 and 0.0 <= high_quality <= 1.0


def test_pacgan_sn_packs_and_normalises_with_its_own_bound(lesson05):
    ns = lesson05
    generator, discriminator = ns["make_models"]("pacgan_sn", output_scale=4.0, sn_scale=15.0)
    assert isinstance(discriminator, ns["Scaled"]) and discriminator.scale == 15.0
    packed = discriminator.module
    assert packed[-1].net[0].in_features == 2 * ns["PACK"]
    linears = [m for m in packed.modules() if isinstance(m, torch.nn.Linear)]
    assert linears and all(torch.nn.utils.parametrize.is_parametrized(m, "weight") for m in linears)
    # plain pacgan is not normalised, and spectral_norm keeps the ring's bound unless told otherwise
    plain = ns["make_models"]("pacgan")[1]
    assert not any(torch.nn.utils.parametrize.is_parametrized(m) for m in plain.modules()
                   if isinstance(m, torch.nn.Linear))
    assert ns["make_models"]("spectral_norm")[1].scale == ns["SN_SCALE"]
    # the grid run's settings reach the model: make_run passes sn_scale through
    run = ns["make_run"]("pacgan_sn", "grid25", steps=2, batch_size=4 * ns["PACK"], sn_scale=7.0)
    assert run.discriminator.scale == 7.0
    assert ns["GRID_SETTINGS"]["sn_scale"] == ns["SN_SCALE"] / 2


def _parameter_cells():
    nb = nbformat.read(ROOT / "solutions" / "05_gan_failures.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    at = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    return cells[at].source, cells[at + 1].source


BAD_VALUES = {"STEPS": 0, "BATCH_SIZE": 1, "SEED": -1, "LR": 0.5, "HIDDEN_DIM": 0, "LATENT_DIM": 0, "SN_SCALE": 0.0,
              "PACK": 0, "GRID_METHOD": "wgan", "GRID_STEPS": 0, "GRID_SCALE": 0.0, "N_EVAL": 10}


@pytest.mark.parametrize("name", sorted(BAD_VALUES))
def test_every_parameter_is_checked_by_the_cell_after_it(name, tmp_path, monkeypatch):
    """A bad value of any parameter stops the lesson at the start() cell, naming it."""
    import helpers.runtime
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path))
    parameters, start = _parameter_cells()
    namespace: dict = {"helpers": helpers}
    exec(parameters, namespace)
    assert set(BAD_VALUES) == {k for k in namespace if k.isupper()}, "a parameter without a bad value to try"
    namespace[name] = BAD_VALUES[name]
    with pytest.raises(ParameterError, match=f"{name} = {BAD_VALUES[name]!r} is not allowed"):
        exec(start, namespace)


def test_batch_size_must_hold_whole_packs(tmp_path, monkeypatch):
    import helpers.runtime
    monkeypatch.setenv("GAN_COURSE_RUNS", str(tmp_path))
    parameters, start = _parameter_cells()
    namespace: dict = {"helpers": helpers}
    exec(parameters, namespace)
    namespace["PACK"] = 3
    with pytest.raises(ParameterError, match="BATCH_SIZE must be a multiple of PACK = 3"):
        exec(start, namespace)


def test_each_method_gets_its_budget_and_settings(lesson05):
    """Spectral norm alone gets SN_STEPS on the ring; on the grid every method gets COMPARISON_GRID_STEPS;
    TTUR's G learns at a quarter of D's rate; WGAN-GP has its own rate, betas and critic steps."""
    ns = lesson05
    run = ns["make_run"]
    assert run("spectral_norm", "ring8").steps == ns["SN_STEPS"] == 2 * ns["STEPS"]
    assert ns["COMPARISON_GRID_STEPS"] == ns["STEPS"] // 2
    assert all(run(m, "ring8").steps == ns["STEPS"] for m in ns["METHODS"] if m != "spectral_norm")
    assert all(run(m, "grid25").steps == ns["COMPARISON_GRID_STEPS"] for m in ns["METHODS"])
    ttur = run("ttur")
    assert ttur.g_optimizer.param_groups[0]["initial_lr"] == pytest.approx(ns["LR"] / 4)
    assert ttur.d_optimizer.param_groups[0]["initial_lr"] == pytest.approx(ns["LR"])
    wgan = run("wgan_gp")
    assert wgan.d_steps == ns["CRITIC_STEPS"] and wgan.d_optimizer.param_groups[0]["betas"] == (0.5, 0.9)
    assert wgan.g_optimizer.param_groups[0]["initial_lr"] == ns["WGAN_LR"]
    sweep = run("gan", lr=1e-3, d_steps=3)   # the sweep's and the widget's overrides
    assert sweep.d_steps == 3 and sweep.d_optimizer.param_groups[0]["initial_lr"] == 1e-3


@pytest.mark.parametrize("method", ["gan", "wgan_gp"])
def test_an_interrupted_run_continues_where_it_stopped(lesson05, method):
    """Ctrl-C during step 3 of 8 stops after that step; train() again continues to 8, and the weights end as
    those of a run that was never interrupted (no re-initialisation, no step trained twice or skipped)."""
    ns = lesson05
    straight = ns["train"](ns["make_run"](method, "ring8", steps=8, batch_size=16))
    run = ns["make_run"](method, "ring8", steps=8, batch_size=16)
    sample_real, calls = run.sample_real, []

    def sample_and_interrupt(n):
        calls.append(n)
        if len(calls) == 3 * run.d_steps:   # during step 3: Ctrl-C
            os.kill(os.getpid(), signal.SIGINT)
        return sample_real(n)

    run.sample_real = sample_and_interrupt
    ns["train"](run)
    assert run.history.done == 3, f"stopped after {run.history.done} steps, expected 3"
    weights = [p.detach().clone() for p in run.generator.parameters()]
    assert not all(torch.equal(a, b) for a, b in zip(weights, straight.generator.parameters()))
    ns["train"](run)
    assert run.history.done == 8
    assert isinstance(run.history, History) and run.history.steps("g_loss")[-1] == 7
    for ours, theirs in zip(run.generator.parameters(), straight.generator.parameters()):
        assert torch.equal(ours, theirs), "the continued run differs from an uninterrupted one"


def test_no_wgan_loss_sits_in_the_student_lesson():
    """The WGAN losses are an exercise: no comment, docstring or text of the student's lesson writes them out."""
    nb = nbformat.read(ROOT / "lessons" / "05_gan_failures.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    for answer in ("mean C(G(z)) - mean C(x)", "-mean C(G(z))", "critic_fake.mean()", "- critic_real.mean()"):
        assert answer not in text, f"the student's lesson gives away {answer!r}"


def test_a_ring_panel_title_names_the_settings_that_made_it(lesson05):
    nb = nbformat.read(ROOT / "solutions" / "05_gan_failures.ipynb", as_version=4)
    source = next(c.source for c in nb.cells if c.cell_type == "code" and "def ring_panel" in c.source)
    ns = dict(lesson05)
    exec(compile(source.split("\nsweep_panels")[0], "ring_panel", "exec"), ns)
    title, points = ns["ring_panel"]("ttur", 1e-3, 2, steps=2, n=100)
    assert points.shape == (100, 2)
    for part in ("ttur", "lr D 1.0e-03 G 2.5e-04", "D:G 2:1", "2 steps", f"seed {ns['SEED']}", "modes"):
        assert part in title, (part, title)
    assert f"SN_SCALE {ns['SN_SCALE']:g}" in ns["ring_panel"]("spectral_norm", 1e-3, 1, steps=2, n=100)[0]
