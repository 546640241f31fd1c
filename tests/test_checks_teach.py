"""Checks teach without handing over the answer: no line of an exercise's solution appears in what its check
prints or raises on a wrong answer; the stronger hint and the solution come only when asked; an answer that
calls the finished version fails."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from helpers import checks, models
from helpers.checks import (CheckFailed, lesson01, lesson02, lesson03, lesson04, lesson05, lesson06, lesson07,
                            lesson08, lesson09)
from helpers.taught import lesson03 as taught03
from helpers.taught import lesson04 as taught04
from helpers.taught import lesson06 as taught06
from helpers.taught import lesson09 as taught09
from tests.test_01_foundation import d_step as d_step_with, g_step as g_step_with
from tests.test_02_mnist import ema as ema_with
from tests.test_05_failures import _penalty_no_graph, _penalty_squared_norm
from tests.test_09_style_based_gan import (conv_demodulated_over_output_channels, conv_with_eps_outside_the_root,
                                           conv_with_one_weight_for_the_batch, conv_without_demodulation,
                                           mix_off_by_one, mix_swapped, truncate_wrong_side, truncate_z)

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"


def _normalised(line: str) -> str:
    """A solution line without its comment, spaces, a leading `return` or assignment target, and end brackets."""
    code = re.sub(r"\s+", "", line.split("#")[0])
    code = re.sub(r"^return", "", code)
    code = re.sub(r"^[\w\s,.\[\]]+=(?!=)", "", code)  # `d_loss = ...`, `grad, = ...`
    return code.strip("()+,:")


def solution_lines() -> dict[str, set[str]]:
    """Each check's name -> the non-trivial lines of the solution regions in the cell before its check cell."""
    found: dict[str, set[str]] = {}
    for notebook in sorted(SOLUTIONS.glob("*.ipynb")):
        lines: set[str] = set()
        for cell in json.loads(notebook.read_text())["cells"]:
            source = "".join(cell["source"])
            regions = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, re.S)
            if regions:
                lines = {code for code in map(_normalised, "".join(regions).splitlines()) if len(code) >= 12}
            for name in re.findall(r"checks\.check_(\w+)\(", source):
                found[name], lines = lines, set()
    return found


LINES = solution_lines()


def _zeros(*args, **kwargs):
    return torch.zeros(())


def _wrong_shape(*args, **kwargs):
    return torch.zeros(3, 2)


def _unwritten(*args, **kwargs):
    raise NotImplementedError


def _subclass(base: type, forward) -> type:
    return type(f"Wrong{base.__name__}", (base,), {"forward": forward})


GENERIC = (_zeros, _wrong_shape, _unwritten)
WRONG = {  # check -> (how to call it with a wrong answer, the wrong answers)
    "optimal_discriminator": (lesson01.check_optimal_discriminator, [
        *GENERIC, lambda p_data, p_g: p_g / (p_data + p_g), lambda p_data, p_g: p_data / p_g,
        lambda p_data, p_g: p_data / (p_data + p_g)]),
    "d_step": (lesson01.check_d_step, [*GENERIC, *(lambda *a, m=m: d_step_with(*a, **m) for m in (
        {"detach": False}, {"labels": (0.0, 1.0)}, {"scale": 0.5}, {"zero": False}, {"step": False}))]),
    "g_step": (lesson01.check_g_step, [*GENERIC, *(lambda *a, m=m: g_step_with(*a, **m) for m in (
        {"saturating": True}, {"label": 0.0}, {"detach": True}, {"zero": False}, {"step": False}))]),
    "image_discriminator": (lesson02.check_image_discriminator,
                            [lambda *a: nn.Sequential(nn.Flatten(), nn.Linear(784, 1)), _unwritten]),
    "discriminator_loss": (lesson02.check_discriminator_loss,
                           [*GENERIC, lambda d, r, f, c, label=1.0: (torch.zeros((), requires_grad=True), d(r), d(f)),
                            lambda d, r, f, c, label=1.0: (c(d(r), torch.ones(6, 1)) + c(d(f), torch.zeros(6, 1)),
                                                           d(r), d(f))]),
    "least_squares": (lesson02.check_least_squares, [
        *GENERIC, lambda s, t: ((s - t) ** 2).sum(), lambda s, t: ((torch.sigmoid(s) - t) ** 2).mean(),
        lambda s, t: (s - t).abs().mean(), lambda s, t: ((s.detach() - t) ** 2).mean()]),
    "ema_update": (lesson02.check_ema_update, [_unwritten, lambda e, m, d: None, *(
        lambda *a, m=m: ema_with(*a, **m) for m in ({"wrong_way": True}, {"replace": True}, {"move_model": True},
                                                     {"record": True}, {"rebind": True}, {"buffers": False}))]),
    "g_block": (lesson03.check_g_block, [lambda i, o: nn.Sequential(nn.ConvTranspose2d(i, o, 4, 2, 1), nn.ReLU()),
                                         lambda i, o: nn.Sequential(nn.Upsample(scale_factor=2)), _unwritten,
                                         lambda i, o: nn.Sequential(nn.ConvTranspose2d(i, o, 3, 2, 1, 1, bias=False),
                                                                    nn.BatchNorm2d(o), nn.ReLU()),
                                         lambda i, o: nn.Sequential(nn.ConvTranspose2d(i, o, 2, 2, 0, bias=False),
                                                                    nn.BatchNorm2d(o), nn.ReLU())]),
    "d_block": (lesson03.check_d_block, [lambda i, o, bn=True: nn.Sequential(nn.Conv2d(i, o, 3, 1, 1)), _unwritten]),
    "weights_init": (lesson03.check_weights_init, [lambda m: None, _unwritten,
                                                    lambda m: nn.init.normal_(m.weight, 0.0, 0.2)
                                                    if isinstance(m, nn.Conv2d) else None]),
    "generate": (lesson03.check_generate, [_unwritten, lambda g, z: g(z), lambda g, z: g.eval()(z).detach(),
                                           lambda g, z: (g.eval(), g(z).detach(), g.train())[1]]),
    "gram_matrix": (lesson04.check_gram_matrix, [*GENERIC, lambda f: torch.zeros(f.shape[0], f.shape[1], f.shape[1])]),
    "tv_loss": (lesson04.check_tv_loss, [*GENERIC, lambda x: (x[:, :, 1:] - x[:, :, :-1]).abs().mean()]),
    "lbfgs_closure": (lesson04.check_lbfgs_closure, [_unwritten, lambda o, f: f, lambda o, f: (lambda: f().item())]),
    "mode_coverage": (lesson05.check_mode_coverage, [_unwritten, lambda p, c, s: (0, 0.0), lambda p, c, s: (3, 0.1)]),
    "wgan_losses": (lambda fn: lesson05.check_wgan_losses(fn, fn), [*GENERIC, lambda *a: -a[-1].mean()]),
    "gradient_penalty": (lesson05.check_gradient_penalty, [*GENERIC, _penalty_squared_norm, _penalty_no_graph]),
    "label_conditioning": (lambda wrong: lesson06.check_label_conditioning(*wrong), [
        (_subclass(models.ConditionalGenerator, lambda self, n, y: self.net(torch.cat([n, 0 * self.label_embedding(y)],
                                                                                        1)).view(-1, 1, 8, 8)),
         taught06.ConditionalDiscriminator),
        (taught06.ConditionalGenerator, _subclass(models.ConditionalDiscriminator, lambda self, x, y: self.out(
            self.body(x)))),
        (_subclass(models.ConditionalGenerator, _zeros), taught06.ConditionalDiscriminator),
        (_subclass(models.ConditionalGenerator, _unwritten), taught06.ConditionalDiscriminator),
        (_subclass(models.ConditionalGenerator, lambda self, n, y: super(type(self), self).forward(n, y)),
         taught06.ConditionalDiscriminator)]),  # helpers.models holds the layers only: no forward to call
    "q_head": (lesson06.check_q_head, [_subclass(models.InfoDiscriminator, _unwritten),
                                       _subclass(models.InfoDiscriminator, lambda self, x: (x, x, x)),
                                       _subclass(models.InfoDiscriminator, lambda self, x: super(type(self), self)
                                                 .forward(x))]),
    "mutual_information_loss": (lesson06.check_mutual_information_loss,
                                [*GENERIC, lambda logits, c, pred, cont, w: F.cross_entropy(logits, c)]),
    "reparameterize": (lesson07.check_reparameterize, [_unwritten, lambda mu, lv: mu, lambda mu, lv: mu + torch.randn_like(mu)]),
    "gaussian_kl": (lesson07.check_gaussian_kl, [*GENERIC, lambda mu, lv: torch.zeros(mu.shape[0])]),
    "elbo_loss": (lesson07.check_elbo_loss, [*GENERIC, lambda *a: (torch.zeros(()), torch.zeros(()), torch.zeros(()))]),
    "unet_forward": (lesson08.check_unet_forward, [_unwritten, lambda u, x: x, lambda u, x: u.ups[-1](u.downs[0](x))]),
    "patch_output_size": (lesson08.check_patch_output_size, [_unwritten, lambda s, specs: s, lambda s, specs: 1]),
    "cycle_loss": (lesson08.check_cycle_loss, [*GENERIC, lambda a, b, fa, fb, gab, gba: F.l1_loss(gba(fb), a)]),
    "modulated_conv": (lesson09.check_modulated_conv, [*GENERIC, conv_without_demodulation,
                                                       conv_with_one_weight_for_the_batch,
                                                       conv_demodulated_over_output_channels,
                                                       conv_with_eps_outside_the_root]),
    "mix_styles": (lesson09.check_mix_styles, [*GENERIC, mix_swapped, mix_off_by_one]),
    "truncation": (lambda fn: lesson09.check_truncation(fn, taught09.mean_w),
                   [*GENERIC, truncate_z, truncate_wrong_side]),
}


def test_every_exercise_has_wrong_answers_and_a_solution():
    exercises = {name for name, lines in LINES.items() if lines}
    assert exercises == set(WRONG), exercises ^ set(WRONG)


@pytest.mark.parametrize("name", sorted(WRONG))
def test_a_failing_check_shows_no_line_of_the_solution(name, capsys):
    check, answers = WRONG[name]
    assert len(answers) >= 2
    for answer in answers:
        with pytest.raises(CheckFailed) as failure:
            check(answer)
        shown = re.sub(r"\s+", "", capsys.readouterr().out + str(failure.value))
        leaked = [line for line in LINES[name] if line in shown]
        assert not leaked, f"check_{name} shows the solution's lines {leaked}:\n{failure.value}"


def test_the_fail_line_says_how_to_ask_for_more_and_hint_says_more(capsys):
    with pytest.raises(CheckFailed) as failure:
        lesson05.check_gradient_penalty(_penalty_squared_norm)
    assert str(failure.value).splitlines()[-1].strip() == (
        'Stuck? helpers.checks.hint("gradient_penalty") says more; '
        'helpers.checks.show_solution("gradient_penalty") gives the answer.')
    checks.hint("gradient_penalty")
    assert "mean (‖∇C(x̂)‖₂ - 1)²" in capsys.readouterr().out
    with pytest.raises(CheckFailed) as failure:  # a result check, not an exercise: no such line
        lesson01.check_harmonic_gan(0.4, 0.03, max_error=0.05, max_coverage=0.1)
    assert "Stuck?" not in str(failure.value)


@pytest.mark.parametrize("name", sorted(WRONG))
def test_show_solution_reads_the_solution_notebook(name, capsys):
    checks.show_solution(name)
    shown = re.sub(r"\s+", "", capsys.readouterr().out)
    assert LINES[name] and all(line in shown for line in LINES[name])


def test_show_solution_without_the_notebooks_gives_the_url(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(checks, "__file__", str(tmp_path / "helpers" / "checks" / "__init__.py"))
    checks.show_solution("cycle_loss")
    out = capsys.readouterr().out
    assert "https://github.com/gan-course/gan-course/blob/main/solutions/08_image_to_image.ipynb" in out
    assert "l1_loss" not in out


@pytest.mark.parametrize("check, answer, finished", [
    (lesson04.check_gram_matrix, lambda f: taught04.gram_matrix(f), "helpers.taught.lesson04.gram_matrix"),
    (lesson02.check_least_squares, lambda s, t: F.mse_loss(s, t), "torch.nn.functional.mse_loss"),
    (lesson02.check_least_squares, lambda s, t: nn.MSELoss()(s, t), "torch.nn.functional.mse_loss"),
    (lesson07.check_gaussian_kl, lambda mu, logvar: lesson07.solution.gaussian_kl(mu, logvar),
     "helpers.taught.lesson07.gaussian_kl"),
    (lesson03.check_generate, lambda g, noise: taught03.generate(g, noise), "helpers.taught.lesson03.generate"),
    (lambda cls: lesson06.check_label_conditioning(cls, taught06.ConditionalDiscriminator),
     _subclass(models.ConditionalGenerator, lambda self, noise, labels: taught06.ConditionalGenerator.forward(
         self, noise, labels)), "helpers.taught.lesson06.ConditionalGenerator.forward"),
    (lambda cls: lesson06.check_label_conditioning(taught06.ConditionalGenerator, cls),
     _subclass(models.ConditionalDiscriminator, lambda self, images, labels: taught06.ConditionalDiscriminator.forward(
         self, images, labels)), "helpers.taught.lesson06.ConditionalDiscriminator.forward"),
    (lesson06.check_q_head, _subclass(models.InfoDiscriminator, lambda self, x: taught06.InfoDiscriminator.forward(
        self, x)), "helpers.taught.lesson06.InfoDiscriminator.forward"),
])
def test_an_answer_that_calls_the_finished_version_fails(check, answer, finished):
    with pytest.raises(CheckFailed, match=f"calls {re.escape(finished)}, the finished version"):
        check(answer)
    assert taught04.gram_matrix(torch.ones(1, 1, 1, 1)).item() == 1.0  # patched only while the check runs
