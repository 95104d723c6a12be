"""Sample quality measured with the committed LeNet-5 MNIST classifier.

`frechet_distance` is the Fréchet distance between Gaussians fitted to the classifier's 84
penultimate features of two image sets. It is NOT the Inception FID of the literature (that
uses Inception-v3's 2048 pool features of ImageNet-trained weights): numbers are comparable
only with each other. `classifier_scores` gives the share of images the classifier assigns
to one class with p >= 0.9 and the histogram of its predicted classes (mode coverage).
"""

from __future__ import annotations

from typing import Any

import rosenblatt as rb
from rosenblatt._backend import np


def _classifier() -> Any:
    from rosenblatt.models import lenet5

    return lenet5(pretrained=True)


def classifier_outputs(images: Any, batch_size: int = 500, model: Any = None) -> tuple[Any, Any]:
    """LeNet-5's 84 penultimate features (N, 84) and softmax probabilities (N, 10), float64
    NumPy arrays, for images (N, 1, 28, 28) in [0, 1]."""
    model = model or _classifier()
    head = model.classifier[:-1]  # Flatten, 400-120-ReLU, 120-84-ReLU
    features, probs = [], []
    with rb.no_grad():
        for start in range(0, images.shape[0], batch_size):
            h = head(model.features(images[start:start + batch_size]))
            features.append(h.numpy().astype(np.float64))
            probs.append(rb.softmax(model.classifier[-1](h), dim=1).numpy().astype(np.float64))
    return np.concatenate(features), np.concatenate(probs)


def gaussian_stats(features: Any) -> tuple[Any, Any]:
    """Mean (D,) and covariance (D, D) of features (N, D)."""
    features = np.asarray(features, dtype=np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(stats_a: tuple[Any, Any], stats_b: tuple[Any, Any]) -> float:
    """||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between two Gaussians.

    tr((S_a S_b)^(1/2)) is the sum of the square roots of the eigenvalues of
    S_a^(1/2) S_b S_a^(1/2), which is symmetric, so only symmetric eigendecompositions are
    needed (tiny negative eigenvalues from rounding count as zero).
    """
    (mu_a, s_a), (mu_b, s_b) = stats_a, stats_b
    w, v = np.linalg.eigh(s_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(root_a @ s_b @ root_a)
    trace_root = float(np.sqrt(np.clip(inner, 0, None)).sum())
    diff = mu_a - mu_b
    return float(diff @ diff + np.trace(s_a) + np.trace(s_b) - 2 * trace_root)


def classifier_scores(probs: Any, threshold: float = 0.9) -> dict:
    """Share of images with top probability >= threshold and the predicted-class histogram
    (counts and shares) from probabilities (N, 10)."""
    probs = np.asarray(probs)
    counts = np.bincount(probs.argmax(axis=1), minlength=probs.shape[1])
    return {"confident": float((probs.max(axis=1) >= threshold).mean()),
            "class_counts": counts.tolist(),
            "class_shares": [round(float(c) / len(probs), 4) for c in counts],
            "classes_covered": int((counts > 0).sum())}


def sample_quality(images: Any, reference: Any, model: Any = None) -> dict:
    """Fréchet distance of images (N, 1, 28, 28) to reference images (M, 1, 28, 28) on
    LeNet-5 features, plus `classifier_scores` of the images. `reference` may also be the
    (mean, covariance) of the reference features (`gaussian_stats`), computed once."""
    model = model or _classifier()
    feats, probs = classifier_outputs(images, model=model)
    ref = reference if isinstance(reference, tuple) else \
        gaussian_stats(classifier_outputs(reference, model=model)[0])
    return {"frechet_lenet": frechet_distance(gaussian_stats(feats), ref),
            "n": int(images.shape[0]), **classifier_scores(probs)}
