"""Small fully connected generators and discriminators (for 2-D toy data)."""
from __future__ import annotations

from torch import Tensor, nn


def _mlp(sizes: list[int], activation: type[nn.Module]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(activation())
    return layers


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


class ToyGenerator(nn.Module):
    """Noise (N, latent_dim) -> points (N, data_dim), through `layers` hidden layers."""

    def __init__(self, latent_dim: int = 2, hidden_dim: int = 32, data_dim: int = 2,
                 layers: int = 2) -> None:
        super().__init__()
        _check_sizes(latent_dim=latent_dim, hidden_dim=hidden_dim, data_dim=data_dim, layers=layers)
        self.latent_dim = latent_dim
        self.net = nn.Sequential(*_mlp([latent_dim] + [hidden_dim] * layers + [data_dim], nn.LeakyReLU))

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)  # (N, data_dim)


class ToyDiscriminator(nn.Module):
    """Points (N, data_dim) -> (N, 1): a probability (sigmoid=True) or a logit (sigmoid=False)."""

    def __init__(self, data_dim: int = 2, hidden_dim: int = 32, layers: int = 2,
                 sigmoid: bool = True) -> None:
        super().__init__()
        _check_sizes(data_dim=data_dim, hidden_dim=hidden_dim, layers=layers)
        body = _mlp([data_dim] + [hidden_dim] * layers + [1], nn.LeakyReLU)
        self.net = nn.Sequential(*body, *([nn.Sigmoid()] if sigmoid else []))

    def forward(self, points: Tensor) -> Tensor:
        return self.net(points)  # (N, 1)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# --- Lesson 06: controlling what a GAN makes (conditional GAN, InfoGAN) ---
import torch  # noqa: E402  (this block's own import, kept with it for clean union merges)


def _image_shape(image_shape) -> tuple[int, int, int]:
    shape = tuple(image_shape)
    if len(shape) != 3 or not all(isinstance(s, int) and s > 0 for s in shape):
        raise ValueError(f"image_shape must be (C, H, W) of positive ints, got {image_shape!r}")
    return shape


def _check_labels(labels, num_classes: int, batch: int, name: str = "labels") -> None:
    if not isinstance(labels, Tensor) or labels.dtype != torch.long or labels.ndim != 1:
        got = f"{labels.dtype} {tuple(labels.shape)}" if isinstance(labels, Tensor) else type(labels).__name__
        raise ValueError(f"{name} must be an int64 tensor of shape (N,), got {got}")
    if labels.shape[0] != batch:
        raise ValueError(f"{name} must hold one entry per sample: expected {batch}, got {labels.shape[0]}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{name} must lie in 0..{num_classes - 1}, got values from "
                         f"{labels.min().item()} to {labels.max().item()}")


class ConditionalGenerator(nn.Module):
    """Noise (N, latent_dim) and labels (N,) -> images (N, C, H, W) in [-1, 1].

    The label is looked up in an embedding table (num_classes, embed_dim) and concatenated
    with the noise, so every layer sees which class it is asked for.
    """

    def __init__(self, latent_dim: int = 64, num_classes: int = 10, embed_dim: int = 10,
                 hidden_dim: int = 256, image_shape: tuple[int, int, int] = (1, 28, 28)) -> None:
        super().__init__()
        _check_sizes(latent_dim=latent_dim, num_classes=num_classes, embed_dim=embed_dim,
                     hidden_dim=hidden_dim)
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.image_shape = _image_shape(image_shape)
        pixels = self.image_shape[0] * self.image_shape[1] * self.image_shape[2]
        self.label_embedding = nn.Embedding(num_classes, embed_dim)                 # (N,) -> (N, embed_dim)
        self.net = nn.Sequential(
            nn.Linear(latent_dim + embed_dim, hidden_dim),                          # (N, hidden)
            nn.BatchNorm1d(hidden_dim), nn.LeakyReLU(0.2),
            nn.Linear(hidden_dim, 2 * hidden_dim),                                  # (N, 2*hidden)
            nn.BatchNorm1d(2 * hidden_dim), nn.LeakyReLU(0.2),
            nn.Linear(2 * hidden_dim, pixels), nn.Tanh(),                           # (N, C*H*W)
        )

    def forward(self, noise: Tensor, labels: Tensor) -> Tensor:
        _check_labels(labels, self.num_classes, noise.shape[0])
        inputs = torch.cat([noise, self.label_embedding(labels)], dim=1)         # (N, latent+embed)
        return self.net(inputs).view(-1, *self.image_shape)                         # (N, C, H, W)


class ConditionalDiscriminator(nn.Module):
    """Images (N, C, H, W) and labels (N,) -> (N, 1) logits: "a real image of this class?".

    A projection discriminator (Miyato & Koyama, 2018): features phi(x) (N, hidden) from an
    MLP, then logit = w . phi(x) + b + embedding(y) . phi(x). The last term scores how well the
    image's features match the asked class, so a fake of the wrong class is easy to reject.
    """

    def __init__(self, num_classes: int = 10, hidden_dim: int = 256,
                 image_shape: tuple[int, int, int] = (1, 28, 28), dropout: float = 0.3) -> None:
        super().__init__()
        _check_sizes(num_classes=num_classes, hidden_dim=hidden_dim)
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.num_classes = num_classes
        self.image_shape = _image_shape(image_shape)
        pixels = self.image_shape[0] * self.image_shape[1] * self.image_shape[2]
        self.body = nn.Sequential(
            nn.Flatten(),                                                           # (N, C*H*W)
            nn.Linear(pixels, 2 * hidden_dim), nn.LeakyReLU(0.2), nn.Dropout(dropout),  # (N, 2*hidden)
            nn.Linear(2 * hidden_dim, hidden_dim), nn.LeakyReLU(0.2), nn.Dropout(dropout),  # (N, hidden)
        )
        self.out = nn.Linear(hidden_dim, 1)                                         # (N, 1): "real?"
        self.label_embedding = nn.Embedding(num_classes, hidden_dim)                # (N,) -> (N, hidden)

    def forward(self, images: Tensor, labels: Tensor) -> Tensor:
        _check_labels(labels, self.num_classes, images.shape[0])
        features = self.body(images)                                                # (N, hidden)
        projection = (self.label_embedding(labels) * features).sum(dim=1, keepdim=True)  # (N, 1)
        return self.out(features) + projection                                      # (N, 1)


class InfoGenerator(nn.Module):
    """Noise (N, noise_dim), a category (N,) and continuous codes (N, num_continuous) -> images.

    The latent vector is [noise, one_hot(category), continuous]: half "discrete", half
    continuous. On its own that split means nothing; InfoGAN's Q head is what gives it meaning.
    """

    def __init__(self, noise_dim: int = 62, num_categories: int = 10, num_continuous: int = 2,
                 hidden_dim: int = 256, image_shape: tuple[int, int, int] = (1, 28, 28)) -> None:
        super().__init__()
        _check_sizes(noise_dim=noise_dim, num_categories=num_categories, hidden_dim=hidden_dim)
        if not isinstance(num_continuous, int) or num_continuous < 0:
            raise ValueError(f"num_continuous must be an int ≥ 0, got {num_continuous!r}")
        self.noise_dim, self.num_categories, self.num_continuous = noise_dim, num_categories, num_continuous
        self.image_shape = _image_shape(image_shape)
        pixels = self.image_shape[0] * self.image_shape[1] * self.image_shape[2]
        self.latent_dim = noise_dim + num_categories + num_continuous
        self.net = nn.Sequential(
            nn.Linear(self.latent_dim, hidden_dim),                                 # (N, hidden)
            nn.BatchNorm1d(hidden_dim), nn.LeakyReLU(0.2),
            nn.Linear(hidden_dim, 2 * hidden_dim),                                  # (N, 2*hidden)
            nn.BatchNorm1d(2 * hidden_dim), nn.LeakyReLU(0.2),
            nn.Linear(2 * hidden_dim, pixels), nn.Tanh(),                           # (N, C*H*W)
        )

    def forward(self, noise: Tensor, category: Tensor, continuous: Tensor) -> Tensor:
        _check_labels(category, self.num_categories, noise.shape[0], name="category")
        if continuous.shape != (noise.shape[0], self.num_continuous):
            raise ValueError(f"continuous must have shape ({noise.shape[0]}, {self.num_continuous}), "
                             f"got {tuple(continuous.shape)}")
        one_hot = nn.functional.one_hot(category, self.num_categories).to(noise.dtype)  # (N, K)
        latent = torch.cat([noise, one_hot, continuous], dim=1)                     # (N, latent_dim)
        return self.net(latent).view(-1, *self.image_shape)                         # (N, C, H, W)


class InfoDiscriminator(nn.Module):
    """Images (N, C, H, W) -> (real/fake logit (N, 1), category logits (N, K), continuous (N, C)).

    One shared body; two heads on it. `d_head` says real or fake; `q_head` is InfoGAN's Q,
    which guesses the codes that made an image: logits of Q(c | x) for the category and the
    mean of a fixed-variance Gaussian for each continuous code.
    """

    def __init__(self, num_categories: int = 10, num_continuous: int = 2, hidden_dim: int = 256,
                 image_shape: tuple[int, int, int] = (1, 28, 28), dropout: float = 0.0) -> None:
        super().__init__()
        _check_sizes(num_categories=num_categories, hidden_dim=hidden_dim)
        if not isinstance(num_continuous, int) or num_continuous < 0:
            raise ValueError(f"num_continuous must be an int ≥ 0, got {num_continuous!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.num_categories, self.num_continuous = num_categories, num_continuous
        self.image_shape = _image_shape(image_shape)
        pixels = self.image_shape[0] * self.image_shape[1] * self.image_shape[2]
        self.body = nn.Sequential(
            nn.Flatten(),                                                           # (N, C*H*W)
            nn.Linear(pixels, 2 * hidden_dim), nn.LeakyReLU(0.2), nn.Dropout(dropout),  # (N, 2*hidden)
            nn.Linear(2 * hidden_dim, hidden_dim), nn.LeakyReLU(0.2), nn.Dropout(dropout),  # (N, hidden)
        )
        self.d_head = nn.Linear(hidden_dim, 1)                                      # (N, 1) logit
        self.q_head = nn.Sequential(
            nn.Linear(hidden_dim, hidden_dim), nn.LeakyReLU(0.2),                   # (N, hidden)
            nn.Linear(hidden_dim, num_categories + num_continuous),                 # (N, K + C)
        )

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        features = self.body(images)                                                # (N, hidden)
        q = self.q_head(features)                                                   # (N, K + C)
        category_logits, continuous = q.split([self.num_categories, self.num_continuous], dim=1)
        return self.d_head(features), category_logits, continuous                  # (N,1), (N,K), (N,C)


def sample_info_latent(batch_size: int, noise_dim: int = 62, num_categories: int = 10,
                       num_continuous: int = 2, device: str | torch.device = "cpu",
                       generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """InfoGAN's latent: noise (N, noise_dim) ~ N(0, 1), category (N,) uniform over K,
    continuous (N, num_continuous) ~ Uniform[-1, 1]."""
    _check_sizes(batch_size=batch_size, noise_dim=noise_dim, num_categories=num_categories)
    noise = torch.randn(batch_size, noise_dim, generator=generator)
    category = torch.randint(0, num_categories, (batch_size,), generator=generator)
    continuous = torch.rand(batch_size, num_continuous, generator=generator) * 2 - 1
    return noise.to(device), category.to(device), continuous.to(device)
