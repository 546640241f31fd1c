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
