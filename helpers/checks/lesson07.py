"""Checks for lesson 07, VAE versus GAN."""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import Tensor

from helpers.checks import call_exercise, fail, fail_unless_one_number, is_close, passed
from helpers.taught import lesson07 as solution


def check_reparameterize(reparameterize: Callable) -> None:
    """Lesson 07: z = mu + σ·ε, σ = exp(½ logvar), random, and differentiable in mu and logvar."""
    torch.manual_seed(0)
    mu = torch.tensor([[0.0, 3.0, -2.0]]).repeat(20_000, 1).requires_grad_(True)      # (20000, 3)
    logvar = torch.log(torch.tensor([[1.0, 4.0, 0.25]])).repeat(20_000, 1).requires_grad_(True)
    z = call_exercise(reparameterize, mu, logvar, name="reparameterize")
    if not isinstance(z, Tensor) or tuple(z.shape) != tuple(mu.shape):
        fail(f"reparameterize(mu, logvar) with mu of shape {tuple(mu.shape)} should return a tensor of "
             f"that shape, got {tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__}.")
    mean, std = z.detach().mean(0), z.detach().std(0)
    if std.max() < 1e-6:
        fail("every sample equals mu: no noise was added.", "add standard normal noise, scaled by σ, to mu.")
    if not torch.allclose(mean, mu[0].detach(), atol=0.06):
        fail(f"the samples' mean is {mean.tolist()}, expected mu = {mu[0].tolist()}.",
             "the samples must be centred on mu: add the noise to mu rather than using it alone.")
    expected_std = torch.tensor([1.0, 2.0, 0.5])
    if not torch.allclose(std, expected_std, rtol=0.05):
        hint = "σ is the exponential of half of logvar: logvar is log σ², so halve it before exponentiating."
        if torch.allclose(std, expected_std ** 2, rtol=0.05):
            hint = "you used exp(logvar) = σ² as the standard deviation; " + hint
        elif torch.allclose(std, logvar[0].detach().abs(), rtol=0.05):
            hint = "you used logvar itself as the standard deviation; " + hint
        fail(f"the samples' standard deviations are {[round(v, 2) for v in std.tolist()]}, "
             f"expected σ = {expected_std.tolist()} for σ² = {[1.0, 4.0, 0.25]}.", hint)
    if not z.requires_grad:
        fail("z carries no gradient.",
             "build z from mu and logvar with tensor arithmetic (no .detach(), no torch.no_grad()).")
    z.sum().backward()
    if mu.grad is None or logvar.grad is None or mu.grad.abs().sum() == 0 or logvar.grad.abs().sum() == 0:
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
    if not isinstance(got, Tensor) or tuple(got.shape) != (n,):
        fail(f"gaussian_kl should return one value per sample, shape ({n},), got "
             f"{tuple(got.shape) if isinstance(got, Tensor) else type(got).__name__}.",
             "sum over the latent dimensions only: .sum(dim=1).")
    # Monte Carlo: KL = E_q[log q(z) - log p(z)], with z drawn from q (200,000 draws per sample)
    std = (0.5 * logvar).exp()
    z = mu + std * torch.randn(200_000, n, d)                                    # (S, n, d)
    log_q = torch.distributions.Normal(mu, std).log_prob(z).sum(-1)              # (S, n)
    log_p = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    monte_carlo = (log_q - log_p).mean(0)                                        # (n,)
    if torch.allclose(got, expected, rtol=1e-4, atol=1e-5):
        passed(f"gaussian_kl: {[round(v, 3) for v in got.tolist()]}; a Monte-Carlo estimate from "
               f"200,000 samples says {[round(v, 3) for v in monte_carlo.tolist()]}.")
        return
    if torch.allclose(got, 2 * expected, rtol=1e-4):
        hint = "it is twice too big: the ½ in front is missing."
    elif torch.allclose(got, -expected, rtol=1e-4):
        hint = "the sign is flipped: a KL divergence is never negative."
    elif torch.allclose(got, expected / d, rtol=1e-4):
        hint = f"it is {d} times too small: you averaged over the latent dimensions; sum them."
    else:
        hint = "use the closed form of the KL between two Gaussians; logvar is log σ², so σ² is its exponential."
    fail(f"got {[round(v, 4) for v in got.tolist()]}, expected {[round(v, 4) for v in expected.tolist()]} "
         f"(Monte Carlo: {[round(v, 3) for v in monte_carlo.tolist()]}).", hint)


def check_elbo_loss(elbo_loss: Callable) -> None:
    """Lesson 07: -ELBO = reconstruction (BCE summed over pixels) + β·KL (summed over dims), batch mean."""
    torch.manual_seed(0)
    n, d, beta = 5, 4, 0.5
    logits, images = torch.randn(n, 1, 6, 6), torch.rand(n, 1, 6, 6) * 2 - 1
    mu, logvar = torch.randn(n, d), torch.randn(n, d) * 0.5
    expected, reconstruction, kl = solution.elbo_loss(logits, images, mu, logvar, beta)
    got = call_exercise(elbo_loss, logits, images, mu, logvar, beta, name="elbo_loss")
    got_loss = got[0] if isinstance(got, (tuple, list)) else got
    fail_unless_one_number(got_loss, "elbo_loss should return (loss, reconstruction, kl) with a single-number "
                                      f"loss, got {got!r}.")
    if is_close(got_loss, expected):
        passed(f"-ELBO: {expected.item():.3f} = reconstruction {reconstruction.item():.3f} "
               f"+ β {beta} × KL {kl.item():.3f} (per image, averaged over the batch).")
        return
    pixels = images[0].numel()
    known = {
        f"the reconstruction term was averaged over the {pixels} pixels (a mean BCE) while the KL is "
        "summed over dimensions, so the KL dominates and the pictures blur: sum the BCE over a "
        "picture's pixels, then average over the batch.": reconstruction / pixels + beta * kl,
        f"the KL was averaged over the {d} latent dimensions: sum it over them (gaussian_kl does).":
            reconstruction + beta * kl / d,
        "both terms were summed over the batch too: average over the images.": n * expected,
        "β is missing: it weights the KL term.": reconstruction + kl,
        "the sign is flipped: the ELBO is maximised, so the loss is -ELBO = reconstruction + β·KL.": -expected,
        "the KL term is subtracted: the loss is reconstruction + β·KL.": reconstruction - beta * kl,
    }
    bce_on_raw = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, images.clamp(0, 1), reduction="none").flatten(1).sum(1).mean()
    known["the targets are the images in [-1, 1]: map them to brightness in [0, 1] with (images + 1) / 2."] = \
        bce_on_raw + beta * kl
    for hint, value in known.items():
        if is_close(got_loss, value, tol=1e-3):
            fail(f"got {got_loss.item():.3f}, expected {expected.item():.3f}: {hint}")
    fail(f"got {got_loss.item():.3f}, expected {expected.item():.3f}.",
         "per image: the BCE of the logits against the brightness in [0, 1] summed over pixels, plus β times "
         "the KL; then the mean over the batch.")


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
    passed(f"Every digit appears among the VAE's samples (rarest {rarest:.1%}, {coverage}/10 at 5% or more); "
           f"Fréchet distance VAE {vae_fd:.1f}, GAN {gan_fd:.1f}.")
