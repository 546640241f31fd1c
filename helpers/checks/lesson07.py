"""Checks for lesson 07, VAE versus GAN."""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch.nn.functional import binary_cross_entropy_with_logits

from helpers.checks import call_exercise, expect, fail, fail_unless_one_number, fail_unless_shape, passed
from helpers.taught import lesson07 as solution


def check_reparameterize(reparameterize: Callable) -> None:
    """Lesson 07: z = mu + σ·ε, σ = exp(½ logvar), random, and differentiable in mu and logvar."""
    torch.manual_seed(0)
    mu = torch.tensor([[0.0, 3.0, -2.0]]).repeat(20_000, 1).requires_grad_(True)      # (20000, 3)
    logvar = torch.log(torch.tensor([[1.0, 4.0, 0.25]])).repeat(20_000, 1).requires_grad_(True)
    z = call_exercise(reparameterize, mu, logvar, name="reparameterize")
    fail_unless_shape(z, mu.shape, "reparameterize(mu, logvar) with mu of shape (20000, 3) should return a tensor "
                      "of that shape")
    mean, std, expected_std = z.detach().mean(0), z.detach().std(0), torch.tensor([1.0, 2.0, 0.5])
    if std.max() < 1e-6:
        fail("every sample equals mu: no noise was added.", "add standard normal noise, scaled by σ, to mu.")
    if not torch.allclose(mean, mu[0].detach(), atol=0.06):
        fail(f"the samples' mean is {mean.tolist()}, expected mu = {mu[0].tolist()}.",
             "the samples must be centred on mu: add the noise to mu rather than using it alone.")
    hint = "σ is the exponential of half of logvar: logvar is log σ², so halve it before exponentiating."
    expect(std, expected_std, {
        "you used exp(logvar) = σ² as the standard deviation; " + hint: expected_std ** 2,
        "you used logvar itself as the standard deviation; " + hint: logvar[0].detach().abs(),
    }, f"the samples' standard deviations are {[round(v, 2) for v in std.tolist()]}, expected σ = "
       f"{expected_std.tolist()} for σ² = [1.0, 4.0, 0.25].", hint, tol=0.05)
    if not z.requires_grad:
        fail("z carries no gradient.", "build z from mu and logvar with tensor arithmetic (no .detach(), no_grad).")
    z.sum().backward()
    if mu.grad is None or logvar.grad is None or not mu.grad.any() or not logvar.grad.any():
        fail("no gradient reaches mu or logvar, so the encoder could not learn through the sample.",
             "torch.normal(mu, std) is not differentiable; scale and shift standard normal noise yourself.")
    passed("reparameterize: the right mean and σ, and gradients reach both mu and logvar.")


def check_gaussian_kl(gaussian_kl: Callable) -> None:
    """Lesson 07: the closed-form KL(N(mu, σ²) ‖ N(0, I)), one value per sample, against Monte Carlo."""
    torch.manual_seed(0)
    n, d = 4, 3
    mu, logvar = torch.randn(n, d), torch.randn(n, d) * 0.5
    expected = solution.gaussian_kl(mu, logvar)                                  # (n,)
    got = call_exercise(gaussian_kl, mu, logvar, name="gaussian_kl")
    fail_unless_shape(got, (n,), f"gaussian_kl should return one value per sample, shape ({n},)",
                      "sum over the latent dimensions only: .sum(dim=1).")
    # Monte Carlo: KL = E_q[log q(z) - log p(z)], with z drawn from q (200,000 draws per sample)
    std = (0.5 * logvar).exp()
    z = mu + std * torch.randn(200_000, n, d)                                    # (S, n, d)
    log_q = torch.distributions.Normal(mu, std).log_prob(z).sum(-1)              # (S, n)
    monte_carlo = (log_q - torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)).mean(0)
    expect(got, expected, {
        "it is twice too big: the ½ in front is missing.": 2 * expected,
        "the sign is flipped: a KL divergence is never negative.": -expected,
        f"it is {d} times too small: you averaged over the latent dimensions; sum them.": expected / d,
    }, f"got {[round(v, 4) for v in got.tolist()]}, expected {[round(v, 4) for v in expected.tolist()]} (Monte "
       f"Carlo: {[round(v, 3) for v in monte_carlo.tolist()]}).",
        "use the closed form of the KL between two Gaussians; logvar is log σ², so σ² is its exponential.")
    passed(f"gaussian_kl: {got.numpy().round(3)}; a Monte-Carlo estimate says {monte_carlo.numpy().round(3)}.")


def check_elbo_loss(elbo_loss: Callable) -> None:
    """Lesson 07: -ELBO = reconstruction (BCE summed over pixels) + β·KL (summed over dims), batch mean."""
    torch.manual_seed(0)
    n, d, beta = 5, 4, 0.5
    logits, images = torch.randn(n, 1, 6, 6), torch.rand(n, 1, 6, 6) * 2 - 1
    mu, logvar = torch.randn(n, d), torch.randn(n, d) * 0.5
    expected, reconstruction, kl = solution.elbo_loss(logits, images, mu, logvar, beta)
    got = call_exercise(elbo_loss, logits, images, mu, logvar, beta, name="elbo_loss")
    got = got[0] if isinstance(got, (tuple, list)) else got
    fail_unless_one_number(got, "the loss of elbo_loss's (loss, reconstruction, kl)")
    raw = binary_cross_entropy_with_logits(logits, images.clamp(0, 1), reduction="none").flatten(1).sum(1).mean()
    expect(got, expected, {
        "the reconstruction term was averaged over the 36 pixels while the KL is summed over dimensions, so the KL "
        "dominates and the pictures blur: sum the BCE over a picture's pixels.": reconstruction / 36 + beta * kl,
        f"the KL was averaged over the {d} latent dimensions: sum it over them.": reconstruction + beta * kl / d,
        "both terms were summed over the batch too: average over the images.": n * expected,
        "β is missing: it weights the KL term.": reconstruction + kl,
        "the sign is flipped: the ELBO is maximised, so the loss is -ELBO = reconstruction + β·KL.": -expected,
        "the KL term is subtracted: the loss is reconstruction + β·KL.": reconstruction - beta * kl,
        "the targets are the images in [-1, 1]: map them to brightness in [0, 1].": raw + beta * kl,
    }, f"got {got.item():.3f}, expected {expected.item():.3f}.", "per image: the BCE of the logits against the "
        "brightness, summed over pixels, plus β times the KL; then the mean over the batch.", tol=1e-3)
    passed(f"-ELBO: {expected.item():.3f} = reconstruction {reconstruction.item():.3f} + {beta} × KL {kl.item():.3f}.")


def check_vae_samples(coverage: int, rarest: float, vae_fd: float, gan_fd: float, min_share: float = 0.02) -> None:
    """Lesson 07: every digit appears among the VAE's samples the judge reads (each at least `min_share` of
    them: none missing); both distances are finite. `coverage` (classes at ≥ 5%) is reported."""
    if not (math.isfinite(vae_fd) and math.isfinite(gan_fd)):
        fail(f"a Fréchet distance is not finite (VAE {vae_fd}, GAN {gan_fd}): a training run diverged.")
    if rarest < min_share:
        fail(f"a digit is missing from the VAE's samples: the rarest holds {rarest:.1%} of what the judge reads "
             f"(at least {min_share:.0%} needed; {coverage} of 10 digits hold 5%).",
             "check that the KL is summed over latent dimensions and the reconstruction over pixels "
             "(both per image), and that samples come from z ~ N(0, I).")
    passed(f"Every digit appears (rarest {rarest:.1%}); Fréchet distance VAE {vae_fd:.1f}, GAN {gan_fd:.1f}.")
