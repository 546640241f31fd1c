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


