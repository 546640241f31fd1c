"""What lesson 09 teaches and later lessons reuse: generated from solutions/09_style_based_gan.ipynb
by scripts/make_lessons.py (its cells that start with `# @save`). Do not edit: edit the solution, then
run `make lessons`."""
from __future__ import annotations

import torch
from torch import Tensor, nn


def modulated_conv(x: Tensor, weight: Tensor, styles: Tensor, up: bool = False, demodulate: bool = True,
                   eps: float = 1e-8) -> Tensor:
    # x (N, C_in, H, W), weight (C_out, C_in, k, k), styles (N, C_in) -> (N, C_out, H, W), (2H, 2W) when up:
    # as if sample i were convolved with its own weight styles[i, c] * weight[o, c], demodulated
    def conv(x):  # the one convolution shared by the batch: k×k same size, or 4×4 transposed (2× larger)
        if up:
            return nn.functional.conv_transpose2d(x, weight.transpose(0, 1), stride=2, padding=1)
        return nn.functional.conv2d(x, weight, padding=weight.shape[-1] // 2)
    x = conv(x * styles[:, :, None, None])              # modulate: scaling input channel c = scaling w[:, c]
    if demodulate:                                      # (N, C_out): 1 / sqrt(sum over c, ky, kx of w'^2 + eps)
        norms = styles.square() @ weight.square().sum((2, 3)).t()
        x = x * torch.rsqrt(norms + eps)[:, :, None, None]
    return x


class StyleLayer(nn.Module):
    """x (N, C_in, H, W), w (N, w_dim) -> features (N, C_out, H', W') (2H if up), toRGB (N, image_channels, H', W')."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, up: bool, image_channels: int = 1) -> None:
        super().__init__()
        size = 4 if up else 3
        self.up = up
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, size, size) / (in_channels * size**2) ** 0.5)
        self.style = nn.Linear(w_dim, in_channels)                   # "A": w -> a scale per input channel
        self.noise_strength = nn.Parameter(torch.zeros(out_channels))  # "B": learned, per channel
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.rgb_weight = nn.Parameter(torch.randn(image_channels, out_channels, 1, 1) / out_channels**0.5)
        self.rgb_style = nn.Linear(w_dim, out_channels)
        nn.init.ones_(self.style.bias)                               # styles start near 1: the plain conv
        nn.init.ones_(self.rgb_style.bias)

    def forward(self, x: Tensor, w: Tensor) -> tuple[Tensor, Tensor]:
        x = modulated_conv(x, self.weight, self.style(w), up=self.up)              # (N, C_out, H', W')
        noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device)  # one map, all channels
        x = nn.functional.leaky_relu(x + self.noise_strength[:, None, None] * noise + self.bias[:, None, None], 0.2)
        return x, modulated_conv(x, self.rgb_weight, self.rgb_style(w), demodulate=False)  # (N, image_channels, H', W')


class StyleGenerator(nn.Module):
    """z (N, latent_dim) -> images (N, C, R, R) in [-1, 1]: a constant 4×4, then a StyleLayer per (width, up)."""

    def __init__(self, latent_dim: int, layers: tuple, mapping_layers: int = 2, image_channels: int = 1) -> None:
        super().__init__()
        self.latent_dim, self.num_layers = latent_dim, len(layers)
        self.mapping = nn.Sequential(*[m for _ in range(mapping_layers)
                                       for m in (nn.Linear(latent_dim, latent_dim), nn.LeakyReLU(0.2))])
        self.constant = nn.Parameter(torch.randn(1, layers[0][0], 4, 4))        # the learned input
        self.layers = nn.ModuleList([StyleLayer(c_in, c_out, latent_dim, up, image_channels)  # up: 2× the size
                                     for (c_in, _), (c_out, up) in zip(layers[:1] + layers[:-1], layers)])

    def map(self, z: Tensor) -> Tensor:
        """z (..., latent_dim) -> w (..., latent_dim), z first scaled to a mean square of 1."""
        return self.mapping(z * torch.rsqrt(z.square().mean(-1, keepdim=True) + 1e-8))

    def synthesis(self, ws: Tensor) -> Tensor:
        """ws (N, num_layers, w_dim), layer i styled by ws[:, i] -> images (N, image_channels, R, R)."""
        x = self.constant.expand(ws.shape[0], -1, -1, -1)                      # (N, C, 4, 4)
        image = 0.0
        for i, layer in enumerate(self.layers):
            x, rgb = layer(x, ws[:, i])                                         # 4, 8, 16, 16, 32 (faces: 64) pixels
            if layer.up:
                image = nn.functional.interpolate(image, scale_factor=2, mode="bilinear", align_corners=False)
            image = image + rgb                                                 # StyleGAN2's skip sum
        return torch.tanh(image)

    def forward(self, z: Tensor) -> Tensor:
        return self.synthesis(self.map(z)[:, None].expand(-1, self.num_layers, -1))  # one w for every layer


def mix_styles(w_a: Tensor, w_b: Tensor, crossover: int, num_layers: int) -> Tensor:
    # w_a, w_b (N, w_dim) -> ws (N, num_layers, w_dim): layers before `crossover` take w_a, the others w_b
    layer = torch.arange(num_layers, device=w_a.device)[None, :, None]    # (1, num_layers, 1)
    return torch.where(layer < crossover, w_a[:, None], w_b[:, None])    # (N, num_layers, w_dim)


def mean_w(generator, n: int = 10_000) -> Tensor:
    # w̄ (w_dim,): the mean of generator.map(z) over n random z
    device = next(generator.parameters()).device
    with torch.no_grad():
        return generator.map(torch.randn(n, generator.latent_dim, device=device)).mean(0)


def truncate(generator, z: Tensor, psi: float, w_avg: Tensor) -> Tensor:
    # z (N, latent_dim) -> w' = w̄ + psi (w - w̄), (N, w_dim)
    with torch.no_grad():
        return w_avg + psi * (generator.map(z) - w_avg)
