"""A variational autoencoder (Kingma and Welling 2014) for 28x28 images: a Gaussian encoder
q(z|x), the reparameterization z = mu + sigma * eps, and a Bernoulli or Gaussian decoder
p(x|z); the loss is the negative ELBO with a beta weight on the KL term (Higgins et al. 2017).
"""

from __future__ import annotations

import math
from typing import Any

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.nn import functional as F

from .autoencoder import conv_decoder, conv_encoder, dense_decoder, dense_encoder


class VAE(nn.Module):
    """Dense (784-hidden-2*latent) or convolutional encoder, mirrored decoder.

    likelihood: 'bernoulli' (decoder outputs logits; -log p(x|z) is the binary cross-entropy
    against x in [0, 1]) or 'gaussian' (decoder outputs means; fixed standard deviation
    `sigma`, -log p(x|z) the Gaussian negative log-density). beta weights the KL term.
    binarize: train on binary images drawn with p = pixel each time (dynamic binarization,
    the setting of the published binarized-MNIST likelihoods).
    """

    def __init__(self, kind: str = "dense", latent_dim: int = 2, hidden: int = 512,
                 likelihood: str = "bernoulli", beta: float = 1.0, sigma: float = 0.1,
                 binarize: bool = False) -> None:
        super().__init__()
        if kind not in ("dense", "conv"):
            raise ValueError(f"VAE: kind must be 'dense' or 'conv', got {kind!r}")
        if likelihood not in ("bernoulli", "gaussian"):
            raise ValueError(f"VAE: likelihood must be 'bernoulli' or 'gaussian', "
                             f"got {likelihood!r}")
        self.config = {"kind": kind, "latent_dim": latent_dim, "hidden": hidden,
                       "likelihood": likelihood, "beta": beta, "sigma": sigma,
                       "binarize": binarize}
        self.binarize = binarize
        self.latent_dim, self.likelihood, self.beta, self.sigma = (latent_dim, likelihood,
                                                                   beta, sigma)
        if kind == "dense":
            self.encoder = dense_encoder(latent_dim, hidden, 2 * latent_dim)
            self.decoder = dense_decoder(latent_dim, hidden)
        else:
            self.encoder = conv_encoder(latent_dim, 2 * latent_dim)
            self.decoder = conv_decoder(latent_dim)

    def encode(self, x: Any) -> tuple[Any, Any]:
        """(N, 1, 28, 28) -> mean and log-variance of q(z|x), each (N, latent_dim)."""
        h = self.encoder(x)
        return h[:, :self.latent_dim], h[:, self.latent_dim:]

    def reparameterize(self, mu: Any, logvar: Any) -> Any:
        """z = mu + exp(logvar / 2) * eps with eps ~ N(0, I): (N, D), (N, D) -> (N, D)."""
        return mu + rb.exp(0.5 * logvar) * rb.randn_like(mu)

    def decode(self, z: Any) -> Any:
        """(N, latent_dim) -> (N, 1, 28, 28) mean images in [0, 1]."""
        out = self.decoder(z)
        return rb.sigmoid(out) if self.likelihood == "bernoulli" else out.clamp(0, 1)

    def reconstruct(self, x: Any) -> Any:
        """(N, 1, 28, 28) -> reconstructions from the posterior means (N, 1, 28, 28)."""
        return self.decode(self.encode(x)[0])

    def sample(self, n: int, generator: Any = None) -> Any:
        """n images (n, 1, 28, 28) decoded from z ~ N(0, I)."""
        return self.decode(rb.randn((n, self.latent_dim), generator=generator))

    def terms(self, x: Any) -> tuple[Any, Any]:
        """Per-image -log p(x|z) for one z ~ q(z|x) and KL(q(z|x) || N(0, I)), each (N,) nats."""
        mu, logvar = self.encode(x)
        out = self.decoder(self.reparameterize(mu, logvar))
        if self.likelihood == "bernoulli":
            nll = F.binary_cross_entropy_with_logits(out, x, reduction="none")
        else:
            log_norm = math.log(self.sigma * math.sqrt(2 * math.pi))
            nll = 0.5 * ((out - x) / self.sigma) ** 2 + log_norm
        kl = 0.5 * (mu ** 2 + rb.exp(logvar) - 1 - logvar).sum(dim=1)
        return nll.flatten(1).sum(dim=1), kl

    def forward(self, x: Any) -> Any:
        """Images (N, 1, 28, 28) in [0, 1] -> the scalar loss: mean of -ELBO with beta * KL."""
        if self.training and self.binarize:
            x = rb.bernoulli(x)
        nll, kl = self.terms(x)
        return (nll + self.beta * kl).mean()
