"""Generative models: shapes, and a few steps of training that measurably lower the objective."""

from __future__ import annotations

import math

import pytest

import rosenblatt as rb
from rosenblatt.models import DCGAN, DDPM, VAE, Autoencoder, UNet
from rosenblatt.models.ddpm import noise_schedule, timestep_embedding


@pytest.fixture
def digits(data_dir):
    """The first 256 MNIST training images (256, 1, 28, 28) in [0, 1]."""
    from rosenblatt.datasets import MNIST

    return MNIST(train=True).data[:256].float()[:, None] / 255


def _train(model, params, images, steps, lr=1e-3, batch=64):
    """Adam on model(x) (its loss) over batches of `images`; the losses of every step."""
    opt = rb.optim.Adam(params, lr=lr)
    losses = []
    for i in range(steps):
        start = (i * batch) % images.shape[0]
        opt.zero_grad()
        loss = model(images[start:start + batch])
        loss.backward()
        opt.step()
        losses.append(float(loss))
    return losses


@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_autoencoder_shapes(kind):
    model = Autoencoder(kind, latent_dim=5)
    x = rb.rand(3, 1, 28, 28)
    assert tuple(model.encode(x).shape) == (3, 5)
    out = model.reconstruct(x)
    assert tuple(out.shape) == (3, 1, 28, 28)
    assert 0 <= float(out.min()) and float(out.max()) <= 1
    assert model(x).ndim == 0


@pytest.mark.parametrize("kind,noise", [("dense", 0.0), ("conv", 0.3)])
def test_autoencoder_training_lowers_reconstruction_loss(digits, kind, noise):
    model = Autoencoder(kind, latent_dim=8, hidden=64, noise=noise)
    losses = _train(model, model.parameters(), digits, 20, lr=3e-3, batch=32)
    assert sum(losses[-4:]) / 4 < 0.6 * sum(losses[:4]) / 4


def test_vae_shapes_and_terms():
    model = VAE("conv", latent_dim=3)
    x = rb.rand(4, 1, 28, 28)
    mu, logvar = model.encode(x)
    assert tuple(mu.shape) == tuple(logvar.shape) == (4, 3)
    nll, kl = model.terms(x)
    assert tuple(nll.shape) == tuple(kl.shape) == (4,)
    assert float(kl.min()) >= 0
    assert tuple(model.sample(6).shape) == (6, 1, 28, 28)
    assert tuple(model.reconstruct(x).shape) == (4, 1, 28, 28)


def test_vae_reparameterization_draws_from_the_posterior():
    model = VAE(latent_dim=2)
    mu, logvar = rb.full((20000, 2), 1.5), rb.full((20000, 2), math.log(0.25))
    z = model.reparameterize(mu, logvar)
    assert abs(float(z.mean()) - 1.5) < 0.01 and abs(float(z.std()) - 0.5) < 0.01


def test_vae_gaussian_likelihood_is_the_normal_density():
    model = VAE(latent_dim=2, likelihood="gaussian", sigma=0.5)
    x = rb.rand(2, 1, 28, 28)
    nll, _ = model.terms(x)
    mu = model.decoder(model.reparameterize(*model.encode(x)))  # another z: only the form
    assert tuple(nll.shape) == (2,)
    # the constant part: 784 * log(sigma * sqrt(2 pi)) is a lower bound of -log p(x|z)
    assert float(nll.min()) >= 784 * math.log(0.5 * math.sqrt(2 * math.pi)) - 1e-3
    assert tuple(mu.shape) == (2, 1, 28, 28)


@pytest.mark.parametrize("likelihood,beta", [("bernoulli", 1.0), ("gaussian", 4.0)])
def test_vae_training_lowers_negative_elbo(digits, likelihood, beta):
    model = VAE(latent_dim=4, hidden=128, likelihood=likelihood, beta=beta)
    losses = _train(model, model.parameters(), digits, 40, lr=3e-3)
    assert sum(losses[-4:]) / 4 < 0.75 * sum(losses[:4]) / 4


def test_dcgan_shapes():
    gan = DCGAN(latent_dim=10, width=4)
    images = gan.generator(rb.randn(5, 10))
    assert tuple(images.shape) == (5, 1, 28, 28)
    assert -1 <= float(images.min()) and float(images.max()) <= 1
    assert tuple(gan.discriminator(images).shape) == (5,)
    samples = gan.sample(3)
    assert tuple(samples.shape) == (3, 1, 28, 28) and float(samples.min()) >= 0
    assert gan.training  # sampling puts the generator back in training mode


def test_dcgan_training_moves_samples_towards_the_data(digits):
    """A few D/G updates pull the generated images' mean picture towards the digits'."""
    gan = DCGAN(latent_dim=16, width=8)
    opt_g = rb.optim.Adam(gan.generator.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = rb.optim.Adam(gan.discriminator.parameters(), lr=2e-3, betas=(0.5, 0.999))
    target = digits.mean(dim=0)

    def gap():
        return float((gan.sample(256).mean(dim=0) - target).abs().mean())

    before = gap()
    for i in range(25):
        d_loss, g_loss = gan.train_step(digits[(i * 32) % 256:][:32], opt_g, opt_d)
        assert math.isfinite(d_loss) and math.isfinite(g_loss)
    assert gap() < 0.75 * before


def test_schedules_and_embedding():
    for kind in ("linear", "cosine"):
        betas = noise_schedule(kind, 100)
        assert tuple(betas.shape) == (100,)
        assert 0 < float(betas.min()) and float(betas.max()) < 1
        abar = rb.cumprod(1 - betas, dim=0)
        assert float(abar[0]) > 0.99 and float(abar[-1]) < 0.01
        assert bool(((abar[1:] - abar[:-1]) < 0).all())
    with pytest.raises(ValueError, match="linear"):
        noise_schedule("square")
    emb = timestep_embedding(rb.tensor([0, 5, 999]), 16)
    assert tuple(emb.shape) == (3, 16)
    assert float(emb[0, :8].abs().max()) == 0 and float(emb[0, 8:].min()) == 1  # sin 0, cos 0


def test_unet_and_ddpm_shapes():
    net = UNet(channels=(8, 16, 16), t_dim=32)
    out = net(rb.randn(2, 1, 28, 28), rb.tensor([3, 700]))
    assert tuple(out.shape) == (2, 1, 28, 28)
    model = DDPM(channels=(8, 8, 8), timesteps=10, schedule="cosine")
    assert model(rb.rand(2, 1, 28, 28)).ndim == 0
    for steps in (None, 3):  # ancestral over all 10 steps, DDIM in 3
        images = model.sample(2, steps=steps)
        assert tuple(images.shape) == (2, 1, 28, 28)
        assert 0 <= float(images.min()) and float(images.max()) <= 1


def test_ddpm_training_lowers_the_noise_prediction_loss(digits):
    model = DDPM(channels=(4, 8, 8), timesteps=100)
    losses = _train(model, model.net.parameters(), digits, 20, lr=3e-3, batch=16)
    assert sum(losses[-5:]) / 5 < 0.6 * sum(losses[:3]) / 3
    before = [p.clone() for p in model.ema.parameters()]
    model.update_ema(step=1000, decay=0.9)
    moved = [float((a - b).abs().max()) for a, b in zip(model.ema.parameters(), before)]
    assert max(moved) > 0  # the average follows the trained weights
