"""DCGAN (Radford et al. 2016) for 28x28 images, following the paper's guidelines: strided
(transposed) convolutions instead of pooling, batch norm in both networks except the
generator's output and the discriminator's input, ReLU in the generator with tanh at the
output, LeakyReLU(0.2) in the discriminator, weights from N(0, 0.02), Adam(2e-4, beta1 0.5).
"""

from __future__ import annotations

from typing import Any

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.nn import functional as F


def generator(latent_dim: int = 100, width: int = 32) -> nn.Module:
    """(N, latent_dim) -> (N, 1, 28, 28) images in [-1, 1]: project to 7x7, then 14, 28."""
    return nn.Sequential(
        nn.Unflatten(1, (latent_dim, 1, 1)),
        nn.ConvTranspose2d(latent_dim, 4 * width, 7, 1, 0, bias=False),   # 7x7
        nn.BatchNorm2d(4 * width), nn.ReLU(),
        nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1, bias=False),    # 14x14
        nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.ConvTranspose2d(2 * width, 1, 4, 2, 1),                         # 28x28
        nn.Tanh(),
    )


def discriminator(width: int = 32) -> nn.Module:
    """(N, 1, 28, 28) images in [-1, 1] -> (N,) logits of 'real'."""
    return nn.Sequential(
        nn.Conv2d(1, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),               # 14x14
        nn.Conv2d(2 * width, 4 * width, 4, 2, 1, bias=False),              # 7x7
        nn.BatchNorm2d(4 * width), nn.LeakyReLU(0.2),
        nn.Conv2d(4 * width, 1, 7, 1, 0), nn.Flatten(0),                   # 1x1 -> (N,)
    )


def dcgan_init_(module: nn.Module) -> None:
    """The paper's initialisation: conv weights N(0, 0.02), batch-norm scales N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGAN(nn.Module):
    """A generator G and a discriminator D trained against each other.

    `train_step(x, opt_g, opt_d)` does one discriminator and one generator update (the
    non-saturating loss: G maximises log D(G(z))) for real images x (N, 1, 28, 28) in [0, 1].
    `forward(x)` is the discriminator's loss on x against as many generated images, without
    updating anything (a number to watch, not to minimise alone).
    """

    def __init__(self, latent_dim: int = 100, width: int = 32) -> None:
        super().__init__()
        self.config = {"latent_dim": latent_dim, "width": width}
        self.latent_dim = latent_dim
        self.generator = generator(latent_dim, width)
        self.discriminator = discriminator(width)
        dcgan_init_(self)

    def sample(self, n: int, generator: Any = None) -> Any:
        """n images (n, 1, 28, 28) in [0, 1] from z ~ N(0, I) (the generator in eval mode)."""
        was_training = self.training
        self.generator.eval()
        try:
            with rb.no_grad():
                z = rb.randn((n, self.latent_dim), generator=generator)
                return (self.generator(z) + 1) / 2
        finally:
            self.generator.train(was_training)

    def _d_loss(self, real: Any, fake: Any) -> Any:
        real_logits, fake_logits = self.discriminator(real), self.discriminator(fake)
        return (F.binary_cross_entropy_with_logits(real_logits, rb.ones_like(real_logits))
                + F.binary_cross_entropy_with_logits(fake_logits, rb.zeros_like(fake_logits)))

    def forward(self, x: Any) -> Any:
        """Images (N, 1, 28, 28) in [0, 1] -> the discriminator's loss (scalar)."""
        z = rb.randn((x.shape[0], self.latent_dim))
        return self._d_loss(x * 2 - 1, self.generator(z).detach())

    def train_step(self, x: Any, opt_g: Any, opt_d: Any) -> tuple[float, float]:
        """One D and one G update on real images x (N, 1, 28, 28) in [0, 1]; (D loss, G loss)."""
        real = x * 2 - 1
        z = rb.randn((x.shape[0], self.latent_dim))
        fake = self.generator(z)
        opt_d.zero_grad()
        d_loss = self._d_loss(real, fake.detach())
        d_value = _finite(d_loss, "discriminator")
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        fake_logits = self.discriminator(fake)
        g_loss = F.binary_cross_entropy_with_logits(fake_logits, rb.ones_like(fake_logits))
        g_value = _finite(g_loss, "generator")
        g_loss.backward()
        opt_g.step()
        return d_value, g_value


def _finite(loss: Any, name: str) -> float:
    """loss.item(), or a NonFiniteLossError naming the network before the bad step is applied."""
    from rosenblatt.train.trainer import NonFiniteLossError

    value = float(loss.item())
    if value != value or abs(value) == float("inf"):
        raise NonFiniteLossError(f"DCGAN: the {name} loss became {value}; stopped before "
                                 "applying it. Try a lower learning rate.")
    return value
