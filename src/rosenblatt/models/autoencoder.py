"""Autoencoders for 28x28 images: a dense one and a convolutional one, either of which can be
trained as a denoising autoencoder (Vincent et al. 2008: reconstruct the clean image from a
corrupted one)."""

from __future__ import annotations

from typing import Any

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.nn import functional as F


def dense_encoder(latent_dim: int, hidden: int, out_features: int | None = None) -> nn.Module:
    """(N, 1, 28, 28) -> (N, out_features or latent_dim): 784-hidden-ReLU-out."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(),
                         nn.Linear(hidden, out_features or latent_dim))


def dense_decoder(latent_dim: int, hidden: int) -> nn.Module:
    """(N, latent_dim) -> (N, 1, 28, 28) logits: latent-hidden-ReLU-784."""
    return nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, 784),
                         nn.Unflatten(1, (1, 28, 28)))


def conv_encoder(latent_dim: int, out_features: int | None = None) -> nn.Module:
    """(N, 1, 28, 28) -> (N, out_features or latent_dim): two stride-2 convs (32, 64 maps)."""
    return nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(),        # 14x14
                         nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),       # 7x7
                         nn.Flatten(), nn.Linear(64 * 7 * 7, out_features or latent_dim))


def conv_decoder(latent_dim: int) -> nn.Module:
    """(N, latent_dim) -> (N, 1, 28, 28) logits: two stride-2 transposed convs."""
    return nn.Sequential(nn.Linear(latent_dim, 64 * 7 * 7), nn.ReLU(),
                         nn.Unflatten(1, (64, 7, 7)),
                         nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),   # 14x14
                         nn.ConvTranspose2d(32, 1, 4, 2, 1))               # 28x28


class Autoencoder(nn.Module):
    """Encoder to a `latent_dim` code and decoder back to pixels, dense or convolutional.

    `forward(x)` is the training objective for images x (N, 1, 28, 28) in [0, 1]: binary
    cross-entropy of the reconstruction, summed over pixels and averaged over images. With
    `noise` > 0 it is a denoising autoencoder: the encoder sees x plus Gaussian noise of that
    standard deviation (clipped to [0, 1]) during training, the loss compares with clean x.
    """

    def __init__(self, kind: str = "conv", latent_dim: int = 16, hidden: int = 256,
                 noise: float = 0.0) -> None:
        super().__init__()
        if kind not in ("dense", "conv"):
            raise ValueError(f"Autoencoder: kind must be 'dense' or 'conv', got {kind!r}")
        self.config = {"kind": kind, "latent_dim": latent_dim, "hidden": hidden,
                       "noise": noise}
        self.noise = noise
        if kind == "dense":
            self.encoder = dense_encoder(latent_dim, hidden)
            self.decoder = dense_decoder(latent_dim, hidden)
        else:
            self.encoder, self.decoder = conv_encoder(latent_dim), conv_decoder(latent_dim)

    def encode(self, x: Any) -> Any:
        """(N, 1, 28, 28) -> (N, latent_dim) codes."""
        return self.encoder(x)

    def decode(self, z: Any) -> Any:
        """(N, latent_dim) -> (N, 1, 28, 28) images in [0, 1]."""
        return rb.sigmoid(self.decoder(z))

    def reconstruct(self, x: Any) -> Any:
        """(N, 1, 28, 28) -> (N, 1, 28, 28) reconstructions in [0, 1]."""
        return self.decode(self.encode(x))

    def forward(self, x: Any) -> Any:
        """Images (N, 1, 28, 28) in [0, 1] -> the scalar reconstruction loss (nats per image)."""
        seen = x
        if self.training and self.noise > 0:
            seen = (x + self.noise * rb.randn_like(x)).clamp(0, 1)
        logits = self.decoder(self.encoder(seen))
        return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
