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
                            lesson08)

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
    "discriminator": (lesson01.check_discriminator,
                      [lambda: nn.Sequential(nn.Linear(2, 8), nn.Sigmoid()), lambda: nn.Linear(2, 1), _unwritten]),
    "d_step": (lesson01.check_d_step, [*GENERIC, lambda *a: (torch.zeros(()), torch.zeros(8, 1), torch.zeros(8, 1))]),
    "g_step": (lesson01.check_g_step, [*GENERIC, lambda *a: (torch.zeros(()), torch.zeros(8, 1))]),
    "image_discriminator": (lesson02.check_image_discriminator,
                            [lambda *a: nn.Sequential(nn.Flatten(), nn.Linear(784, 1)), _unwritten]),
    "discriminator_loss": (lesson02.check_discriminator_loss,
                           [*GENERIC, lambda d, r, f, c, label=1.0: (torch.zeros((), requires_grad=True), d(r), d(f)),
                            lambda d, r, f, c, label=1.0: (c(d(r), torch.ones(6, 1)) + c(d(f), torch.zeros(6, 1)),
                                                           d(r), d(f))]),
    "generator_loss": (lesson02.check_generator_loss,
                       [*GENERIC, lambda d, f, c: c(d(f), torch.zeros(6, 1)), lambda d, f, c: c(d(f).detach(),
                                                                                               torch.ones(6, 1))]),
    "ema_update": (lesson02.check_ema_update,
                   [_unwritten, lambda e, m, d: None,
                    lambda e, m, d: [p.data.copy_(q) for p, q in zip(e.parameters(), m.parameters())]]),
    "g_block": (lesson03.check_g_block, [lambda i, o: nn.Sequential(nn.ConvTranspose2d(i, o, 4, 2, 1), nn.ReLU()),
                                         lambda i, o: nn.Sequential(nn.Upsample(scale_factor=2)), _unwritten]),
    "d_block": (lesson03.check_d_block, [lambda i, o, bn=True: nn.Sequential(nn.Conv2d(i, o, 3, 1, 1)), _unwritten]),
    "weights_init": (lesson03.check_weights_init, [lambda m: None, _unwritten,
                                                    lambda m: nn.init.normal_(m.weight, 0.0, 0.2)
                                                    if isinstance(m, nn.Conv2d) else None]),
    "dcgan_train_step": (lesson03.check_dcgan_train_step, [_unwritten, lambda *a: {"d_loss": 0.0}, lambda *a: {
        "d_loss": torch.tensor(0.0), "g_loss": torch.tensor(0.0), "d_real": torch.tensor(0.5),
        "d_fake": torch.tensor(0.5)}]),
    "gram_matrix": (lesson04.check_gram_matrix, [*GENERIC, lambda f: torch.zeros(f.shape[0], f.shape[1], f.shape[1])]),
    "tv_loss": (lesson04.check_tv_loss, [*GENERIC, lambda x: (x[:, :, 1:] - x[:, :, :-1]).abs().mean()]),
    "lbfgs_closure": (lesson04.check_lbfgs_closure, [_unwritten, lambda o, f: f, lambda o, f: (lambda: f().item())]),
    "mode_coverage": (lesson05.check_mode_coverage, [_unwritten, lambda p, c, s: (0, 0.0), lambda p, c, s: (3, 0.1)]),
    "wgan_losses": (lambda fn: lesson05.check_wgan_losses(fn, fn), [*GENERIC, lambda *a: -a[-1].mean()]),
    "gradient_penalty": (lesson05.check_gradient_penalty, [*GENERIC, lambda c, r, f, e: torch.tensor(1.0,
                                                                                                   requires_grad=True)]),
    "label_conditioning": (lambda wrong: lesson06.check_label_conditioning(*wrong), [
        (_subclass(models.ConditionalGenerator, lambda self, n, y: self.net(torch.cat([n, 0 * self.label_embedding(y)],
                                                                                        1)).view(-1, 1, 8, 8)),
         models.ConditionalDiscriminator),
        (models.ConditionalGenerator, _subclass(models.ConditionalDiscriminator, lambda self, x, y: self.out(
            self.body(x)))),
        (_subclass(models.ConditionalGenerator, _zeros), models.ConditionalDiscriminator),
        (_subclass(models.ConditionalGenerator, _unwritten), models.ConditionalDiscriminator)]),
    "q_head": (lesson06.check_q_head, [_subclass(models.InfoDiscriminator, _unwritten),
                                       _subclass(models.InfoDiscriminator, lambda self, x: (x, x, x))]),
    "mutual_information_loss": (lesson06.check_mutual_information_loss,
                                [*GENERIC, lambda logits, c, pred, cont, w: F.cross_entropy(logits, c)]),
    "reparameterize": (lesson07.check_reparameterize, [_unwritten, lambda mu, lv: mu, lambda mu, lv: mu + torch.randn_like(mu)]),
    "gaussian_kl": (lesson07.check_gaussian_kl, [*GENERIC, lambda mu, lv: torch.zeros(mu.shape[0])]),
    "elbo_loss": (lesson07.check_elbo_loss, [*GENERIC, lambda *a: (torch.zeros(()), torch.zeros(()), torch.zeros(()))]),
    "unet_forward": (lesson08.check_unet_forward, [_unwritten, lambda u, x: x, lambda u, x: u.ups[-1](u.downs[0](x))]),
    "patch_output_size": (lesson08.check_patch_output_size, [_unwritten, lambda s, specs: s, lambda s, specs: 1]),
    "cycle_loss": (lesson08.check_cycle_loss, [*GENERIC, lambda a, b, fa, fb, gab, gba: F.l1_loss(gba(fb), a)]),
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
