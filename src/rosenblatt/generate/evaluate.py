"""Measured quality of a checkpoint on the MNIST (or Fashion-MNIST) test set.

Autoencoder and VAE: reconstruction error (binary cross-entropy in nats per image and mean
squared error per pixel) and, for the VAE, the negative ELBO in nats per image (one z per
image, beta = 1 whatever the training beta). VAE, DCGAN and DDPM: `metrics.sample_quality`
of n samples against the test set, and as the floor the same measures of n real training
images (and the whole test set's own classifier scores); n images of uniform noise as the
ceiling (the classifier reads most of them with p >= 0.9: that share alone proves little).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import rosenblatt as rb

from .metrics import (
    _classifier,
    classifier_outputs,
    classifier_scores,
    gaussian_stats,
    sample_quality,
)
from .train import dataset, load_model, sample_images


def test_images(name: str, binarize: bool = False, seed: int = 0) -> tuple[Any, Any]:
    """The test split: images (N, 1, 28, 28) in [0, 1] (binary draws with p = pixel when
    `binarize`, from `seed`) and labels (N,)."""
    data = dataset(name, train=False)
    images = data.data.float()[:, None] / 255
    if binarize:
        gen = rb.Generator().manual_seed(seed)
        images = (rb.rand(tuple(images.shape), generator=gen) < images).float()
    return images, data.targets


def reconstruction(model: Any, images: Any, batch_size: int = 1000, noise: float = 0.0,
                   seed: int = 0) -> dict:
    """Mean BCE (nats/image) and MSE (per pixel) of the reconstructions of images (N, 1, 28,
    28); for a VAE also the negative ELBO (nats/image) and its KL part. With `noise` > 0 the
    model sees the images plus Gaussian noise of that std (clipped to [0, 1]) and is scored
    against the clean ones (a denoising autoencoder's task)."""
    from rosenblatt.models import VAE

    totals = {"bce": 0.0, "mse": 0.0, "neg_elbo": 0.0, "kl": 0.0}
    gen = rb.Generator().manual_seed(seed)
    with rb.no_grad():
        for start in range(0, images.shape[0], batch_size):
            x = images[start:start + batch_size]
            seen = x if noise <= 0 else \
                (x + noise * rb.randn(tuple(x.shape), generator=gen)).clamp(0, 1)
            recon = model.reconstruct(seen).clamp(1e-6, 1 - 1e-6)
            bce = -(x * rb.log(recon) + (1 - x) * rb.log(1 - recon)).flatten(1).sum(dim=1)
            totals["bce"] += float(bce.sum())
            totals["mse"] += float(((recon - x) ** 2).mean(dim=(1, 2, 3)).sum())
            if isinstance(model, VAE):
                nll, kl = model.terms(x)
                totals["neg_elbo"] += float((nll + kl).sum())
                totals["kl"] += float(kl.sum())
    n = images.shape[0]
    out = {"recon_bce_nats": totals["bce"] / n, "recon_mse": totals["mse"] / n}
    if isinstance(model, VAE):
        out.update(neg_elbo_nats=totals["neg_elbo"] / n, kl_nats=totals["kl"] / n)
    return out


def evaluate(path: str | os.PathLike, n: int = 1000, steps: int | None = 50,
             seed: int = 0) -> dict:
    """All measures that apply to the checkpoint at `path`, as a JSON-able dict."""
    model, config = load_model(path)
    kind = config["model"]
    rb.manual_seed(seed)
    binarize = bool(config["options"].get("binarize"))
    images, _ = test_images(config["dataset"], binarize=binarize, seed=seed)
    result: dict[str, Any] = {"checkpoint": str(path), "model": kind,
                              "dataset": config["dataset"], "test_images": int(images.shape[0]),
                              "options": config["options"]}
    if binarize:
        result["test_binarized"] = f"each pixel drawn once with p = pixel (seed {seed})"
    if kind in ("ae", "vae"):
        result.update(reconstruction(model, images))
    if kind == "ae" and config["options"].get("noise"):
        level = config["options"]["noise"]
        noisy = reconstruction(model, images, noise=level, seed=seed)
        result.update(denoise_noise=level, denoise_bce_nats=noisy["recon_bce_nats"],
                      denoise_mse=noisy["recon_mse"])
    if kind in ("vae", "dcgan", "ddpm"):
        lenet = _classifier()
        real_feats, real_probs = classifier_outputs(test_images(config["dataset"])[0],
                                                    model=lenet)
        ref = gaussian_stats(real_feats)
        samples = sample_images(model, n, steps if kind == "ddpm" else None, seed)
        result["samples"] = sample_quality(samples, ref, lenet)
        if kind == "ddpm":
            result["samples"]["ddim_steps"] = steps
        train_images = dataset(config["dataset"]).data[:n].float()[:, None] / 255
        result["floor_real_train"] = sample_quality(train_images, ref, lenet)
        result["real_test_scores"] = classifier_scores(real_probs)
        noise = rb.rand((n, 1, 28, 28), generator=rb.Generator().manual_seed(seed))
        result["uniform_noise"] = sample_quality(noise, ref, lenet)
        result["note"] = ("frechet_lenet: Frechet distance on the 84 penultimate features of "
                          "the committed LeNet-5 MNIST classifier, not Inception FID")
        if config["dataset"] != "mnist":
            result["note"] += ("; that classifier reads digits, so on other data these scores "
                               "only compare models with each other")
    return result


def write_card(path: str | os.PathLike, results: dict) -> Path:
    """Write the checkpoint's model card beside it (`last.safetensors` ->
    `last.card.json`): what the model is, how long it trained, the file's digest and the
    measured quality `results` of `evaluate`. Written to a temporary file, then renamed."""
    path = Path(path)
    state = rb.load(path)
    config = state["config"]
    model, _ = load_model(path)
    history = state.get("history") or []
    data = path.read_bytes()
    card = {
        "file": path.name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
        "model": config["generate"]["model"], "options": config["generate"]["options"],
        "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "trained_on": f"{config['generate']['dataset']} training set",
        "training": {**config.get("settings", {}), "epochs": int(state.get("epoch", 0)),
                     "steps": int(state.get("global_step", 0)),
                     "minutes": round(sum(r["seconds"] for r in history) / 60, 1)},
        "measured": {k: v for k, v in results.items() if k not in ("checkpoint", "options")},
    }
    out = path.with_suffix(".card.json")
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(card, indent=1, default=str) + "\n")
    tmp.replace(out)
    return out
