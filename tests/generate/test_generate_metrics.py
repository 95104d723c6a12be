"""The LeNet-feature Fréchet distance and the classifier's scores of generated images."""

from __future__ import annotations

import numpy as np
import pytest

import rosenblatt as rb
from rosenblatt.generate.metrics import (
    classifier_outputs,
    classifier_scores,
    frechet_distance,
    gaussian_stats,
    sample_quality,
)


def test_frechet_distance_of_one_dimensional_gaussians():
    """In 1-D the distance is (m1 - m2)^2 + (s1 - s2)^2; in D-D with diagonal covariances,
    the sum of that over dimensions."""
    a = (np.array([1.0, 0.0]), np.diag([4.0, 1.0]))
    b = (np.array([-2.0, 0.5]), np.diag([1.0, 9.0]))
    assert frechet_distance(a, b) == pytest.approx(9 + 1 + 0.25 + 4)
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-9)


def test_frechet_distance_with_full_covariances_matches_the_matrix_square_root():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(500, 6)), rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6))
    sa, sb = gaussian_stats(x), gaussian_stats(y)
    w, v = np.linalg.eig(sa[1] @ sb[1])  # tr sqrt(A B) from the eigenvalues of A B
    expected = (np.sum((sa[0] - sb[0]) ** 2) + np.trace(sa[1]) + np.trace(sb[1])
                - 2 * np.sqrt(w.real.clip(0)).sum())
    assert frechet_distance(sa, sb) == pytest.approx(expected, rel=1e-6)


@pytest.fixture
def test_digits(data_dir):
    from rosenblatt.datasets import MNIST

    return MNIST(train=False).data[:2000].float()[:, None] / 255


def test_same_data_is_near_zero_and_noise_is_far(test_digits):
    first, second = test_digits[:1000], test_digits[1000:]
    same = sample_quality(first, second)
    noise = sample_quality(rb.rand(1000, 1, 28, 28), second)
    blank = sample_quality(rb.zeros(1000, 1, 28, 28) + 0.01 * rb.rand(1000, 1, 28, 28), second)
    assert same["frechet_lenet"] < 0.05 * noise["frechet_lenet"]
    assert same["frechet_lenet"] < 0.05 * blank["frechet_lenet"]
    assert same["confident"] > 0.95 and same["classes_covered"] == 10
    assert max(same["class_shares"]) < 0.15  # every digit about a tenth


def test_classifier_scores_and_outputs(test_digits):
    feats, probs = classifier_outputs(test_digits[:10])
    assert feats.shape == (10, 84) and probs.shape == (10, 10)
    assert np.allclose(probs.sum(axis=1), 1)
    scores = classifier_scores(np.array([[0.95, 0.05], [0.5, 0.5], [0.0, 1.0]]))
    assert scores["confident"] == pytest.approx(2 / 3)
    assert scores["class_counts"] == [2, 1] and scores["classes_covered"] == 2
