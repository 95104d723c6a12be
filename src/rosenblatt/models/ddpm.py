"""A denoising diffusion model (Ho et al. 2020) for 28x28 images: a small U-Net with a time
embedding, a linear or cosine noise schedule, ancestral sampling and DDIM (Song et al. 2021)
for sampling in few steps.

Images live in [-1, 1] inside the model; `sample` returns them in [0, 1].
"""

from __future__ import annotations

import math
from typing import Any

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.nn import functional as F


def noise_schedule(kind: str = "linear", steps: int = 1000) -> Any:
    """The betas (steps,) of the linear (1e-4 to 0.02, DDPM) or cosine (Nichol and Dhariwal
    2021, clipped at 0.999) schedule, float64."""
    if kind == "linear":
        scale = 1000 / steps
        return rb.linspace(scale * 1e-4, scale * 0.02, steps, dtype=rb.float64)
    if kind == "cosine":
        s = 0.008
        t = rb.arange(steps + 1, dtype=rb.float64) / steps
        f = rb.cos((t + s) / (1 + s) * math.pi / 2) ** 2
        alpha_bar = f / f[0]
        return rb.clamp(1 - alpha_bar[1:] / alpha_bar[:-1], max=0.999)
    raise ValueError(f"noise_schedule: kind must be 'linear' or 'cosine', got {kind!r}")


def timestep_embedding(t: Any, dim: int) -> Any:
    """Sinusoidal embedding of integer timesteps t (N,) -> (N, dim), as in the Transformer."""
    half = dim // 2
    freqs = rb.exp(-math.log(10000.0) * rb.arange(half, dtype=rb.float32) / half)
    angles = t.float()[:, None] * freqs[None, :]
    return rb.cat([rb.sin(angles), rb.cos(angles)], dim=1)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv3x3, plus the projected time embedding, GroupNorm-SiLU-conv3x3,
    with a residual connection: (N, c_in, H, W), (N, t_dim) -> (N, c_out, H, W)."""

    def __init__(self, c_in: int, c_out: int, t_dim: int, groups: int = 8) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(min(groups, c_in), c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.time = nn.Linear(t_dim, c_out)
        self.norm2 = nn.GroupNorm(min(groups, c_out), c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: Any, temb: Any) -> Any:
        """(N, c_in, H, W), (N, t_dim) -> (N, c_out, H, W)."""
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time(temb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class UNet(nn.Module):
    """A small U-Net for 28x28 images: 28 -> 14 -> 7 and back, one residual block per level
    on the way down and up (skip connections concatenated), a middle block at 7x7.

    (N, C, 28, 28) noisy images and (N,) timesteps -> (N, C, 28, 28) predicted noise.
    """

    def __init__(self, in_channels: int = 1, channels: tuple[int, int, int] = (16, 32, 32),
                 t_dim: int = 128) -> None:
        super().__init__()
        c1, c2, c3 = channels
        self.t_dim = t_dim
        self.time_mlp = nn.Sequential(nn.Linear(t_dim, t_dim), nn.SiLU(), nn.Linear(t_dim, t_dim))
        self.conv_in = nn.Conv2d(in_channels, c1, 3, padding=1)
        self.down1 = ResBlock(c1, c1, t_dim)
        self.pool1 = nn.Conv2d(c1, c1, 3, stride=2, padding=1)
        self.down2 = ResBlock(c1, c2, t_dim)
        self.pool2 = nn.Conv2d(c2, c2, 3, stride=2, padding=1)
        self.down3 = ResBlock(c2, c3, t_dim)
        self.mid = ResBlock(c3, c3, t_dim)
        self.up3 = ResBlock(c3 + c3, c2, t_dim)
        self.unpool2 = nn.Conv2d(c2, c2, 3, padding=1)
        self.up2 = ResBlock(c2 + c2, c1, t_dim)
        self.unpool1 = nn.Conv2d(c1, c1, 3, padding=1)
        self.up1 = ResBlock(c1 + c1, c1, t_dim)
        self.norm_out = nn.GroupNorm(min(8, c1), c1)
        self.conv_out = nn.Conv2d(c1, in_channels, 3, padding=1)

    def forward(self, x: Any, t: Any) -> Any:
        """(N, C, 28, 28), (N,) int timesteps -> (N, C, 28, 28)."""
        temb = self.time_mlp(timestep_embedding(t, self.t_dim))
        h1 = self.down1(self.conv_in(x), temb)                    # 28x28
        h2 = self.down2(self.pool1(h1), temb)                     # 14x14
        h3 = self.down3(self.pool2(h2), temb)                     # 7x7
        h = self.mid(h3, temb)
        h = self.up3(rb.cat([h, h3], dim=1), temb)                # 7x7
        h = self.unpool2(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.up2(rb.cat([h, h2], dim=1), temb)                # 14x14
        h = self.unpool1(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.up1(rb.cat([h, h1], dim=1), temb)                # 28x28
        return self.conv_out(F.silu(self.norm_out(h)))


class DDPM(nn.Module):
    """A U-Net noise predictor with its noise schedule.

    `forward(x)` is the training objective: the mean squared error between the noise added at
    a random timestep and the U-Net's prediction (Ho et al.'s simple loss), for images x
    (N, C, 28, 28) in [0, 1]. `sample(n)` draws images by ancestral sampling, or by DDIM in
    `steps` < T steps. `ema` holds an exponential moving average of the U-Net's weights
    (`update_ema` after each optimizer step); sampling uses it, as Ho et al. did.
    """

    def __init__(self, in_channels: int = 1, channels: tuple[int, int, int] = (16, 32, 32),
                 timesteps: int = 1000, schedule: str = "linear") -> None:
        super().__init__()
        self.config = {"in_channels": in_channels, "channels": tuple(channels),
                       "timesteps": timesteps, "schedule": schedule}
        self.net = UNet(in_channels, channels)
        self.ema = UNet(in_channels, channels)
        self.ema.load_state_dict(self.net.state_dict())
        self.ema.requires_grad_(False)
        self.timesteps = timesteps
        betas = noise_schedule(schedule, timesteps)
        self.register_buffer("betas", betas.float(), persistent=False)
        self.register_buffer("alpha_bar", rb.cumprod(1 - betas, dim=0).float(), persistent=False)

    def update_ema(self, step: int, decay: float = 0.999) -> None:
        """ema = d * ema + (1 - d) * net after optimizer step `step` (1-based), with
        d = min(decay, (1 + step) / (10 + step)): a short average while the weights move fast."""
        d = min(decay, (1 + step) / (10 + step))
        with rb.no_grad():
            for e, p in zip(self.ema.parameters(), self.net.parameters()):
                e.mul_(d).add_(p, alpha=1 - d)

    def q_sample(self, x0: Any, t: Any, noise: Any) -> Any:
        """x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise: (N, C, H, W) at timesteps t (N,)."""
        abar = self.alpha_bar[t][:, None, None, None]
        return rb.sqrt(abar) * x0 + rb.sqrt(1 - abar) * noise

    def forward(self, x: Any) -> Any:
        """Images (N, C, 28, 28) in [0, 1] -> the scalar noise-prediction loss."""
        x0 = x * 2 - 1
        t = rb.randint(0, self.timesteps, (x0.shape[0],))
        noise = rb.randn_like(x0)
        return F.mse_loss(self.net(self.q_sample(x0, t, noise), t), noise)

    @rb.no_grad()
    def sample(self, n: int, steps: int | None = None, eta: float = 0.0,
               generator: Any = None, use_ema: bool = True) -> Any:
        """n images (n, C, 28, 28) in [0, 1]: ancestral sampling over all T steps when `steps`
        is None or T, otherwise DDIM over `steps` evenly spaced timesteps (eta 0:
        deterministic, 1: DDPM-like noise)."""
        was_training = self.training
        self.eval()
        try:
            shape = (n, self.config["in_channels"], 28, 28)
            x = rb.randn(shape, generator=generator)
            net = self.ema if use_ema else self.net
            if steps is None or steps >= self.timesteps:
                x = self._ancestral(net, x, generator)
            else:
                x = self._ddim(net, x, steps, eta, generator)
        finally:
            self.train(was_training)
        return ((x.clamp(-1, 1) + 1) / 2).detach()

    def _ancestral(self, net: Any, x: Any, generator: Any) -> Any:
        """x_T (N, C, H, W) -> x_0 by Ho et al.'s Algorithm 2 (sigma_t^2 = beta_t)."""
        for i in reversed(range(self.timesteps)):
            t = rb.full((x.shape[0],), i, dtype=rb.int64)
            beta, abar = float(self.betas[i]), float(self.alpha_bar[i])
            eps = net(x, t)
            x = (x - beta / math.sqrt(1 - abar) * eps) / math.sqrt(1 - beta)
            if i > 0:
                x = x + math.sqrt(beta) * rb.randn(tuple(x.shape), generator=generator)
        return x

    def _ddim(self, net: Any, x: Any, steps: int, eta: float, generator: Any) -> Any:
        """x_T (N, C, H, W) -> x_0 by DDIM's update over `steps` timesteps."""
        times = [round(v) for v in
                 rb.linspace(self.timesteps - 1, 0, steps, dtype=rb.float64).tolist()]
        for i, now in enumerate(times):
            prev = times[i + 1] if i + 1 < len(times) else -1
            abar = float(self.alpha_bar[now])
            abar_prev = float(self.alpha_bar[prev]) if prev >= 0 else 1.0
            eps = net(x, rb.full((x.shape[0],), now, dtype=rb.int64))
            x0 = ((x - math.sqrt(1 - abar) * eps) / math.sqrt(abar)).clamp(-1, 1)
            eps = (x - math.sqrt(abar) * x0) / math.sqrt(1 - abar)
            sigma = eta * math.sqrt((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev))
            x = math.sqrt(abar_prev) * x0 + math.sqrt(max(1 - abar_prev - sigma ** 2, 0.0)) * eps
            if sigma > 0 and prev >= 0:
                x = x + sigma * rb.randn(tuple(x.shape), generator=generator)
        return x
