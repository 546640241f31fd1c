"""The course's models: toy MLPs (lessons 01, 05), lesson 02's MLP generator, lesson 03's latent walk and
saved DCGAN generator, the conditional and InfoGAN models' layers (06), the VAE (07)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from helpers.checkpoints import read_checkpoint
from helpers.taught import lesson03


def _check_sizes(image_shape=(1, 1, 1), **sizes: int) -> tuple[int, int, int]:
    """Raise unless every size is a positive int and image_shape is (C, H, W) of them; returns image_shape."""
    if len(image_shape) != 3:
        raise ValueError(f"image_shape must be (C, H, W), got {image_shape!r}")
    for name, value in {**sizes, **{f"image_shape[{i}]": s for i, s in enumerate(image_shape)}}.items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    return tuple(image_shape)


def _mlp(sizes: list[int], activation: type[nn.Module] = nn.LeakyReLU, *args) -> list[nn.Module]:
    """Linear layers through `sizes`, activation(*args) between them (none after the last)."""
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), activation(*args)]  # (N, n_out)
    return layers[:-1]


class ToyGenerator(nn.Module):
    """Noise (N, latent_dim) -> points (N, data_dim), through `layers` hidden layers."""

    def __init__(self, latent_dim: int = 2, hidden_dim: int = 32, data_dim: int = 2, layers: int = 2) -> None:
        super().__init__()
        _check_sizes(latent_dim=latent_dim, hidden_dim=hidden_dim, data_dim=data_dim, layers=layers)
        self.latent_dim = latent_dim
        self.net = nn.Sequential(*_mlp([latent_dim] + [hidden_dim] * layers + [data_dim]))

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)  # (N, data_dim)


class ToyDiscriminator(nn.Module):
    """Points (N, data_dim) -> (N, 1) through two hidden layers: a probability (sigmoid=True) or a logit."""

    def __init__(self, data_dim: int = 2, hidden_dim: int = 32, sigmoid: bool = True) -> None:
        super().__init__()
        _check_sizes(data_dim=data_dim, hidden_dim=hidden_dim)
        self.net = nn.Sequential(*_mlp([data_dim, hidden_dim, hidden_dim, 1]), *([nn.Sigmoid()] if sigmoid else []))

    def forward(self, points: Tensor) -> Tensor:
        return self.net(points)  # (N, 1)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class MLPGenerator(nn.Module):
    """Noise (N, latent_dim) -> images (N, C, H, W) in [-1, 1]: Linear + LeakyReLU layers, tanh out."""

    def __init__(self, latent_dim: int = 64, hidden_dims: tuple[int, ...] = (256, 256),
                 image_shape: tuple[int, int, int] = (1, 28, 28)) -> None:
        super().__init__()
        self.image_shape = _check_sizes(image_shape, latent_dim=latent_dim,
                                        **{f"hidden_dims[{i}]": h for i, h in enumerate(hidden_dims)})
        self.latent_dim = latent_dim
        pixels = image_shape[0] * image_shape[1] * image_shape[2]
        layers = _mlp([latent_dim, *hidden_dims, pixels], nn.LeakyReLU, 0.2)
        self.net = nn.Sequential(*layers, nn.Tanh())  # (N, C*H*W) in [-1, 1]

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(z.shape[0], *self.image_shape)  # (N, C, H, W)


def slerp(z0: Tensor, z1: Tensor, t) -> Tensor:
    """z0, z1 (D,) and t (T,) or a float -> (T, D): along the great circle between the directions (a straight
    line when they are (anti)parallel), the length going linearly from |z0| to |z1|."""
    if z0.shape != z1.shape or z0.ndim != 1:
        raise ValueError(f"z0 and z1 must be two vectors of the same length, got {tuple(z0.shape)} "
                         f"and {tuple(z1.shape)}")
    t = torch.as_tensor(t, dtype=z0.dtype, device=z0.device).reshape(-1, 1)  # (T, 1)
    n0, n1 = z0.norm(), z1.norm()
    if n0 == 0 or n1 == 0:
        raise ValueError("slerp needs two non-zero vectors")
    u0, u1 = z0 / n0, z1 / n1
    omega = torch.arccos((u0 @ u1).clamp(-1.0, 1.0))
    if omega.abs() < 1e-4 or (torch.pi - omega).abs() < 1e-4:
        direction = (1 - t) * u0 + t * u1
    else:
        direction = (torch.sin((1 - t) * omega) * u0 + torch.sin(t * omega) * u1) / torch.sin(omega)
        direction = direction / direction.norm(dim=1, keepdim=True)
    return direction * ((1 - t) * n0 + t * n1)  # (T, D)


def load_dcgan_generator(path) -> nn.Module:
    """Lesson 03's Generator rebuilt on the CPU from the generator.pt it writes (its weights and config)."""
    state = read_checkpoint(path)
    if "generator" not in state or "config" not in state:
        raise ValueError(f"{path} holds {sorted(state)}; expected 'generator' and 'config' "
                         "(a file written by lesson 03)")
    config = {key: int(state["config"][key]) for key in ("latent_dim", "feature_maps", "channels", "image_size")}
    generator = lesson03.Generator(**config)
    generator.load_state_dict(state["generator"])
    return generator


# --- Lesson 06: controlling what a GAN makes (conditional GAN, InfoGAN) ---
# ConditionalGenerator, ConditionalDiscriminator and InfoDiscriminator hold the layers; their forwards are the
# lesson's exercises, in helpers.taught.lesson06.

def _check_labels(labels, num_classes: int, batch: int, name: str = "labels") -> None:
    if not isinstance(labels, Tensor) or labels.dtype != torch.long or labels.ndim != 1:
        got = f"{labels.dtype} {tuple(labels.shape)}" if isinstance(labels, Tensor) else type(labels).__name__
        raise ValueError(f"{name} must be an int64 tensor of shape (N,), got {got}")
    if labels.shape[0] != batch:
        raise ValueError(f"{name} must hold one entry per sample: expected {batch}, got {labels.shape[0]}")
    # The range is checked on the CPU only: on a GPU, reading min/max back would stall every step
    # (there, an out-of-range label stops nn.Embedding with an index error instead).
    if labels.device.type == "cpu" and labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{name} must lie in 0..{num_classes - 1}, got values from "
                         f"{labels.min().item()} to {labels.max().item()}")


def _check_forward_labels(model: nn.Module, inputs: tuple) -> None:
    """Forward pre-hook of the conditional models, called as model(x, labels), before lesson 06's forward."""
    _check_labels(inputs[1], model.num_classes, inputs[0].shape[0])


def _generator_body(in_dim: int, hidden_dim: int, image_shape: tuple[int, int, int]) -> nn.Sequential:
    """Latent inputs (N, in_dim) -> images (N, C, H, W) in [-1, 1]."""
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim), nn.BatchNorm1d(hidden_dim), nn.LeakyReLU(0.2),              # (N, hidden)
        nn.Linear(hidden_dim, 2 * hidden_dim), nn.BatchNorm1d(2 * hidden_dim), nn.LeakyReLU(0.2),  # (N, 2*hidden)
        nn.Linear(2 * hidden_dim, image_shape[0] * image_shape[1] * image_shape[2]), nn.Tanh(),    # (N, C*H*W)
    )


def _feature_body(image_shape: tuple[int, int, int], hidden_dim: int, dropout: float) -> nn.Sequential:
    """Images (N, C, H, W) -> features (N, hidden_dim)."""
    return nn.Sequential(
        nn.Flatten(),                                                                              # (N, C*H*W)
        nn.Linear(image_shape[0] * image_shape[1] * image_shape[2], 2 * hidden_dim), nn.LeakyReLU(0.2),
        nn.Dropout(dropout),                                                                       # (N, 2*hidden)
        nn.Linear(2 * hidden_dim, hidden_dim), nn.LeakyReLU(0.2), nn.Dropout(dropout),             # (N, hidden)
    )


class ConditionalGenerator(nn.Module):
    """Noise (N, latent_dim) beside the labels' (N,) embedding (N, embed_dim) -> images (N, C, H, W) in [-1, 1]."""

    def __init__(self, latent_dim: int = 64, num_classes: int = 10, embed_dim: int = 10,
                 hidden_dim: int = 256, image_shape: tuple[int, int, int] = (1, 28, 28)) -> None:
        super().__init__()
        self.image_shape = _check_sizes(image_shape, latent_dim=latent_dim, num_classes=num_classes,
                                        embed_dim=embed_dim, hidden_dim=hidden_dim)
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.label_embedding = nn.Embedding(num_classes, embed_dim)                        # (N,) -> (N, embed)
        self.net = _generator_body(latent_dim + embed_dim, hidden_dim, self.image_shape)  # (N, C*H*W)
        self.register_forward_pre_hook(_check_forward_labels)


class ConditionalDiscriminator(nn.Module):
    """Images (N, C, H, W) and labels (N,) -> (N, 1) logits of "a real image of this class?": a projection
    discriminator (Miyato & Koyama, 2018), w . phi(x) + b + embedding(y) . phi(x)."""

    def __init__(self, num_classes: int = 10, hidden_dim: int = 256,
                 image_shape: tuple[int, int, int] = (1, 28, 28), dropout: float = 0.3) -> None:
        super().__init__()
        self.image_shape = _check_sizes(image_shape, num_classes=num_classes, hidden_dim=hidden_dim)
        self.num_classes = num_classes
        self.body = _feature_body(self.image_shape, hidden_dim, dropout)  # (N, hidden)
        self.out = nn.Linear(hidden_dim, 1)                               # (N, 1): "real?"
        self.label_embedding = nn.Embedding(num_classes, hidden_dim)      # (N,) -> (N, hidden)
        self.register_forward_pre_hook(_check_forward_labels)


class InfoGenerator(nn.Module):
    """Noise (N, noise_dim), a category (N,) and continuous codes (N, num_continuous) -> images (N, C, H, W),
    through the latent vector [noise, one_hot(category), continuous]."""

    def __init__(self, noise_dim: int = 62, num_categories: int = 10, num_continuous: int = 2,
                 hidden_dim: int = 256, image_shape: tuple[int, int, int] = (1, 28, 28)) -> None:
        super().__init__()
        self.image_shape = _check_sizes(image_shape, noise_dim=noise_dim, num_categories=num_categories,
                                        num_continuous=num_continuous, hidden_dim=hidden_dim)
        self.noise_dim, self.num_categories, self.num_continuous = noise_dim, num_categories, num_continuous
        self.latent_dim = noise_dim + num_categories + num_continuous
        self.net = _generator_body(self.latent_dim, hidden_dim, self.image_shape)  # (N, C*H*W)

    def forward(self, noise: Tensor, category: Tensor, continuous: Tensor) -> Tensor:
        _check_labels(category, self.num_categories, noise.shape[0], name="category")
        if continuous.shape != (noise.shape[0], self.num_continuous):
            raise ValueError(f"continuous must have shape ({noise.shape[0]}, {self.num_continuous}), "
                             f"got {tuple(continuous.shape)}")
        one_hot = nn.functional.one_hot(category, self.num_categories).to(noise.dtype)  # (N, K)
        latent = torch.cat([noise, one_hot, continuous], dim=1)                         # (N, latent_dim)
        return self.net(latent).view(-1, *self.image_shape)                             # (N, C, H, W)


class InfoDiscriminator(nn.Module):
    """Images (N, C, H, W) -> real/fake logit (N, 1) from `d_head`, and from `q_head`, InfoGAN's Q, the codes'
    guesses: category logits (N, K) and continuous means (N, C)."""

    def __init__(self, num_categories: int = 10, num_continuous: int = 2, hidden_dim: int = 256,
                 image_shape: tuple[int, int, int] = (1, 28, 28), dropout: float = 0.0) -> None:
        super().__init__()
        self.image_shape = _check_sizes(image_shape, num_categories=num_categories, num_continuous=num_continuous,
                                        hidden_dim=hidden_dim)
        self.num_categories, self.num_continuous = num_categories, num_continuous
        self.body = _feature_body(self.image_shape, hidden_dim, dropout)  # (N, hidden)
        self.d_head = nn.Linear(hidden_dim, 1)                            # (N, 1) logit
        self.q_head = nn.Sequential(
            nn.Linear(hidden_dim, hidden_dim), nn.LeakyReLU(0.2),         # (N, hidden)
            nn.Linear(hidden_dim, num_categories + num_continuous),       # (N, K + C)
        )


def sample_info_latent(batch_size: int, noise_dim: int = 62, num_categories: int = 10,
                       num_continuous: int = 2, device: str | torch.device = "cpu",
                       generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Noise (N, noise_dim) ~ N(0, 1), category (N,) uniform over K, continuous (N, num_continuous) ~ U[-1, 1]."""
    noise = torch.randn(batch_size, noise_dim, generator=generator)
    category = torch.randint(0, num_categories, (batch_size,), generator=generator)
    continuous = torch.rand(batch_size, num_continuous, generator=generator) * 2 - 1
    return noise.to(device), category.to(device), continuous.to(device)


def _info_latent(generator: InfoGenerator, n: int, seed: int) -> tuple[Tensor, Tensor]:
    """Noise (n, noise_dim) and continuous codes (n, num_continuous) drawn from `seed`, on G's device."""
    noise, _, continuous = sample_info_latent(n, generator.noise_dim, generator.num_categories,
                                              generator.num_continuous, next(generator.parameters()).device,
                                              torch.Generator().manual_seed(seed))
    return noise, continuous


def code_grid(generator: InfoGenerator, per_code: int = 10, seed: int = 0) -> Tensor:
    """(K * per_code, C, H, W) on the CPU: row k = categorical code k, the same noise and continuous codes in each."""
    noise, continuous = _info_latent(generator, per_code, seed)
    k = generator.num_categories
    codes = torch.arange(k, device=noise.device).repeat_interleave(per_code)
    return lesson03.generate(generator, noise.repeat(k, 1), codes, continuous.repeat(k, 1))


def traversal(generator: InfoGenerator, code_index: int, category: int, seed: int, steps: int = 9) -> Tensor:
    """(steps, C, H, W) on the CPU: continuous code `code_index` swept from -2 to 2, all else fixed."""
    noise, continuous = _info_latent(generator, 1, seed)
    continuous = continuous.repeat(steps, 1)
    continuous[:, code_index] = torch.linspace(-2, 2, steps, device=noise.device)
    categories = torch.full((steps,), category, device=noise.device, dtype=torch.long)
    return lesson03.generate(generator, noise.repeat(steps, 1), categories, continuous)


# --- Lesson 07: the variational autoencoder (its ELBO's pieces are the lesson's exercises) ---

class VAE(nn.Module):
    """Kingma & Welling (2014). encode: images (N, C, H, W) in [-1, 1] -> mu, logvar = log σ² (N, latent_dim);
    decode: z (N, latent_dim) -> logits (N, C, H, W) of each pixel's brightness in [0, 1], a Bernoulli mean."""

    def __init__(self, latent_dim: int = 16, hidden_dim: int = 400,
                 image_shape: tuple[int, int, int] = (1, 28, 28)) -> None:
        super().__init__()
        self.image_shape = _check_sizes(image_shape, latent_dim=latent_dim, hidden_dim=hidden_dim)
        self.latent_dim = latent_dim
        pixels = image_shape[0] * image_shape[1] * image_shape[2]
        self.encoder = nn.Sequential(
            nn.Flatten(),                                                   # (N, C*H*W)
            *_mlp([pixels, hidden_dim, hidden_dim, 2 * latent_dim], nn.ReLU),  # (N, 2 * latent_dim): mu, log σ²
        )
        self.decoder = nn.Sequential(
            *_mlp([latent_dim, hidden_dim, hidden_dim, pixels], nn.ReLU),   # (N, C*H*W) logits
            nn.Unflatten(1, self.image_shape),                              # (N, C, H, W)
        )

    def encode(self, images: Tensor) -> tuple[Tensor, Tensor]:
        return self.encoder(images).chunk(2, dim=1)  # mu, logvar

    def decode(self, z: Tensor) -> Tensor:
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (N, {self.latent_dim}), got {tuple(z.shape)}")
        return self.decoder(z)

    @torch.no_grad()
    def generate(self, z: Tensor) -> Tensor:
        """Latent codes (N, latent_dim) -> images (N, C, H, W) in [-1, 1]: each pixel's mean brightness."""
        return torch.sigmoid(self.decode(z)) * 2 - 1
