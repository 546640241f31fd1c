"""The course's generators and discriminators: toy MLPs (lessons 01, 05), MNIST MLPs (02), lesson 03's
latent walk and saved DCGAN generator, conditional and InfoGAN models (06)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from helpers.checkpoints import read_checkpoint
from helpers.taught import lesson03


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


# --- Lesson 02: fully connected GAN on MNIST ---

class MLPGenerator(nn.Module):
    """Noise (N, latent_dim) -> images (N, C, H, W) in [-1, 1]: Linear + LeakyReLU layers, tanh out.

    The classic course generator is MLPGenerator(64, (256, 256), (1, 28, 28)): 64 → 256 → 256 → 784.
    """

    def __init__(self, latent_dim: int = 64, hidden_dims: tuple[int, ...] = (256, 256),
                 image_shape: tuple[int, int, int] = (1, 28, 28),
                 negative_slope: float = 0.2) -> None:
        super().__init__()
        _check_sizes(latent_dim=latent_dim, **{f"hidden_dims[{i}]": h for i, h in enumerate(hidden_dims)},
                     **{f"image_shape[{i}]": s for i, s in enumerate(image_shape)})
        if len(image_shape) != 3:
            raise ValueError(f"image_shape must be (C, H, W), got {image_shape!r}")
        self.latent_dim = latent_dim
        self.image_shape = tuple(image_shape)
        pixels = image_shape[0] * image_shape[1] * image_shape[2]
        layers: list[nn.Module] = []
        sizes = [latent_dim, *hidden_dims]
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(negative_slope)]  # (N, n_out)
        layers += [nn.Linear(sizes[-1], pixels), nn.Tanh()]                      # (N, C*H*W) in [-1, 1]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(z.shape[0], *self.image_shape)  # (N, C, H, W)


class MLPDiscriminator(nn.Module):
    """Images (N, C, H, W) -> (N, 1): flatten, Linear + LeakyReLU (+ dropout) layers, one output.

    sigmoid=True ends in a probability (for nn.BCELoss); sigmoid=False returns the logit
    (for nn.BCEWithLogitsLoss, which is numerically safer). The classic course discriminator is
    MLPDiscriminator((1, 28, 28), (256, 256)): 784 → 256 → 256 → 1.
    """

    def __init__(self, image_shape: tuple[int, int, int] = (1, 28, 28),
                 hidden_dims: tuple[int, ...] = (256, 256), negative_slope: float = 0.2,
                 dropout: float = 0.0, sigmoid: bool = True) -> None:
        super().__init__()
        _check_sizes(**{f"hidden_dims[{i}]": h for i, h in enumerate(hidden_dims)},
                     **{f"image_shape[{i}]": s for i, s in enumerate(image_shape)})
        if len(image_shape) != 3:
            raise ValueError(f"image_shape must be (C, H, W), got {image_shape!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
        self.image_shape = tuple(image_shape)
        pixels = image_shape[0] * image_shape[1] * image_shape[2]
        layers: list[nn.Module] = [nn.Flatten()]                                  # (N, C*H*W)
        sizes = [pixels, *hidden_dims]
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(negative_slope)]      # (N, n_out)
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(sizes[-1], 1))                                    # (N, 1) logit
        if sigmoid:
            layers.append(nn.Sigmoid())                                           # (N, 1) probability
        self.net = nn.Sequential(*layers)

    def forward(self, images: Tensor) -> Tensor:
        return self.net(images)  # (N, 1)


# --- Lesson 03: DCGAN on faces ---------------------------------------------------------------

def slerp(z0: Tensor, z1: Tensor, t) -> Tensor:
    """Spherical interpolation: z0, z1 (D,) and t (T,) (or a float) -> (T, D) points from z0 to z1.

    Moves along the great circle between the directions while the length goes linearly from
    |z0| to |z1|: Gaussian noise lives near a sphere, and straight lines cut through its
    low-probability middle. Falls back to a straight line when z0 and z1 are (anti)parallel.
    """
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


def load_dcgan_generator(path, map_location="cpu") -> nn.Module:
    """Lesson 03's Generator rebuilt from the generator.pt it writes (its weights and config)."""
    state = read_checkpoint(path, map_location)
    if "generator" not in state or "config" not in state:
        raise ValueError(f"{path} holds {sorted(state)}; expected 'generator' and 'config' "
                         "(a file written by lesson 03)")
    config = state["config"]
    generator = lesson03.Generator(latent_dim=int(config["latent_dim"]),
                                   feature_maps=int(config["feature_maps"]),
                                   channels=int(config["channels"]), image_size=int(config["image_size"]))
    generator.load_state_dict(state["generator"])
    return generator


# --- Lesson 06: controlling what a GAN makes (conditional GAN, InfoGAN) ---

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
    # The range is checked on the CPU only: on a GPU, reading min/max back would stall every step
    # (there, an out-of-range label stops nn.Embedding with an index error instead).
    if labels.device.type == "cpu" and labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{name} must lie in 0..{num_classes - 1}, got values from "
                         f"{labels.min().item()} to {labels.max().item()}")


def _generator_body(in_dim: int, hidden_dim: int, pixels: int) -> nn.Sequential:
    """Lesson 06's generators' shared MLP: latent inputs (N, in_dim) -> pixels (N, C*H*W) in [-1, 1]."""
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim),                                              # (N, hidden)
        nn.BatchNorm1d(hidden_dim), nn.LeakyReLU(0.2),
        nn.Linear(hidden_dim, 2 * hidden_dim),                                      # (N, 2*hidden)
        nn.BatchNorm1d(2 * hidden_dim), nn.LeakyReLU(0.2),
        nn.Linear(2 * hidden_dim, pixels), nn.Tanh(),                               # (N, C*H*W)
    )


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
        self.net = _generator_body(latent_dim + embed_dim, hidden_dim, pixels)     # (N, C*H*W)

    def forward(self, noise: Tensor, labels: Tensor) -> Tensor:
        _check_labels(labels, self.num_classes, noise.shape[0])
        inputs = torch.cat([noise, self.label_embedding(labels)], dim=1)         # (N, latent+embed)
        return self.net(inputs).view(-1, *self.image_shape)                         # (N, C, H, W)


def _feature_body(image_shape: tuple[int, int, int], hidden_dim: int, dropout: float) -> nn.Sequential:
    """Lesson 06's discriminators' shared trunk: images (N, C, H, W) -> features (N, hidden_dim)."""
    pixels = image_shape[0] * image_shape[1] * image_shape[2]
    return nn.Sequential(
        nn.Flatten(),                                                               # (N, C*H*W)
        nn.Linear(pixels, 2 * hidden_dim), nn.LeakyReLU(0.2), nn.Dropout(dropout),  # (N, 2*hidden)
        nn.Linear(2 * hidden_dim, hidden_dim), nn.LeakyReLU(0.2), nn.Dropout(dropout),  # (N, hidden)
    )


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
        self.body = _feature_body(self.image_shape, hidden_dim, dropout)             # (N, hidden)
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
        self.net = _generator_body(self.latent_dim, hidden_dim, pixels)            # (N, C*H*W)

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
        self.body = _feature_body(self.image_shape, hidden_dim, dropout)             # (N, hidden)
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


@torch.no_grad()
def generate(generator: nn.Module, *inputs: Tensor) -> Tensor:
    """generator(*inputs) in eval mode (BatchNorm uses its running statistics), without gradients.

    The generator is put back in the mode it was in."""
    training = generator.training
    generator.eval()
    images = generator(*inputs)
    generator.train(training)
    return images


def _info_latent(generator: InfoGenerator, n: int, seed: int) -> tuple[Tensor, Tensor]:
    """Noise (n, noise_dim) and continuous codes (n, num_continuous) drawn from `seed`, on G's device."""
    noise, _, continuous = sample_info_latent(n, generator.noise_dim, generator.num_categories,
                                              generator.num_continuous, generator=torch.Generator().manual_seed(seed))
    device = next(generator.parameters()).device
    return noise.to(device), continuous.to(device)


def code_grid(generator: InfoGenerator, per_code: int = 10, seed: int = 0) -> Tensor:
    """(K * per_code, C, H, W): row k = categorical code k, the same noise and continuous codes in every row."""
    noise, continuous = _info_latent(generator, per_code, seed)
    k = generator.num_categories
    codes = torch.arange(k, device=noise.device).repeat_interleave(per_code)
    return generate(generator, noise.repeat(k, 1), codes, continuous.repeat(k, 1))


def traversal(generator: InfoGenerator, code_index: int, category: int, seed: int, steps: int = 9) -> Tensor:
    """(steps, C, H, W): continuous code `code_index` swept from -2 to 2; noise, category and other codes fixed."""
    noise, continuous = _info_latent(generator, 1, seed)
    continuous = continuous.repeat(steps, 1)
    continuous[:, code_index] = torch.linspace(-2, 2, steps, device=noise.device)
    categories = torch.full((steps,), category, device=noise.device, dtype=torch.long)
    return generate(generator, noise.repeat(steps, 1), categories, continuous)
