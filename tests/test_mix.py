"""MixUp and CutMix: soft targets, pixel fractions, determinism, use with cross_entropy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt.mix import CutMix, MixUp, cutmix, mixup

N, C, H, W, K = 8, 2, 12, 10, 5
LABELS = np.array([0, 1, 2, 3, 4, 0, 1, 2])


def _images() -> rb.Tensor:
    """Image i is the constant i + 1, so every mixed pixel says where it came from."""
    values = np.arange(1, N + 1, dtype=np.float32)[:, None, None, None]
    return rb.tensor(np.broadcast_to(values, (N, C, H, W)).copy())


def _seeded(seed: int) -> rb.Generator:
    return rb.Generator().manual_seed(seed)


@pytest.mark.parametrize("fn", [mixup, cutmix])
def test_targets_are_distributions(fn) -> None:
    x, y = _images(), rb.tensor(LABELS)
    for seed in range(5):
        xm, t = fn(x, y, alpha=1.0, num_classes=K, generator=_seeded(seed))
        t = t.numpy()
        assert xm.shape == x.shape and xm.dtype == x.dtype
        assert t.shape == (N, K) and t.dtype == np.float32
        assert np.all(t >= 0)
        np.testing.assert_allclose(t.sum(1), 1.0, rtol=1e-6)


def test_cutmix_weight_is_the_pixel_fraction() -> None:
    x, y = _images(), rb.tensor(LABELS)
    eye = np.eye(K)
    fractions = []
    for seed in range(20):
        xm, t = cutmix(x, y, alpha=1.0, num_classes=K, generator=_seeded(seed))
        xm, t = xm.numpy(), t.numpy()
        for i in range(N):
            values = set(np.unique(xm[i]).tolist())
            others = values - {i + 1.0}
            assert len(others) <= 1  # the image's own pixels and one partner's
            j = int(others.pop()) - 1 if others else i
            own = float((xm[i] == i + 1.0).mean())
            expected = own * eye[LABELS[i]] + (1 - own) * eye[LABELS[j]]
            np.testing.assert_allclose(t[i], expected, atol=1e-6)
            fractions.append(own)
        # the box is one rectangle, the same for all channels and images
        diff = xm[:, 0] != x.numpy()[:, 0]
        changed = diff.any(0)
        if changed.any():
            rows, cols = np.nonzero(changed.any(1))[0], np.nonzero(changed.any(0))[0]
            assert changed[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].all()
    assert any(0 < f < 1 for f in fractions)


def test_mixup_blends_images_and_targets_with_one_weight() -> None:
    # one-hot inputs: row i of the mixed batch is lam e_i + (1 - lam) e_partner
    x, y = rb.tensor(np.eye(N, dtype=np.float32)), rb.tensor(LABELS)
    xm, t = mixup(x, y, alpha=0.4, num_classes=K, generator=_seeded(3))
    xm, t = xm.numpy(), t.numpy()
    eye = np.eye(K)
    lams = set()
    for i in range(N):
        row = xm[i]
        j = i if row[i] == 1 else int(np.argmax(np.where(np.arange(N) == i, -1, row)))
        lam = float(row[i])
        np.testing.assert_allclose(row.sum(), 1.0, rtol=1e-6)
        np.testing.assert_allclose(t[i], lam * eye[LABELS[i]] + (1 - lam) * eye[LABELS[j]],
                                   atol=1e-6)
        if j != i:
            lams.add(round(lam, 6))
    assert len(lams) == 1 and 0 < lams.pop() < 1  # one weight for the batch


@pytest.mark.parametrize("fn", [mixup, cutmix])
def test_seeded_runs_repeat(fn) -> None:
    x, y = _images(), rb.tensor(LABELS)
    a = fn(x, y, 1.0, K, generator=_seeded(7))
    b = fn(x, y, 1.0, K, generator=_seeded(7))
    rb.manual_seed(11)
    c = fn(x, y, 1.0, K)
    rb.manual_seed(11)
    d = fn(x, y, 1.0, K)
    for p, q in ((a, b), (c, d)):
        np.testing.assert_array_equal(p[0].numpy(), q[0].numpy())
        np.testing.assert_array_equal(p[1].numpy(), q[1].numpy())
    draws = [fn(x, y, 1.0, K, generator=_seeded(s))[1].numpy() for s in range(4)]
    assert any(not np.array_equal(draws[0], d) for d in draws[1:])
    np.testing.assert_array_equal(x.numpy(), _images().numpy())  # input untouched


def test_soft_targets_feed_cross_entropy() -> None:
    x, y = _images(), rb.tensor(LABELS)
    _, t = CutMix(alpha=1.0, num_classes=K, generator=_seeded(1))(x, y)
    logits = np.random.default_rng(0).normal(size=(N, K)).astype(np.float32)
    ours = rb.nn.functional.cross_entropy(rb.tensor(logits), t)
    ref = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(t.numpy()))
    np.testing.assert_allclose(float(ours.item()), float(ref), rtol=1e-5)
    # already-soft targets mix again and stay distributions
    _, t2 = MixUp(alpha=1.0, num_classes=K, generator=_seeded(2))(x, t)
    np.testing.assert_allclose(t2.numpy().sum(1), 1.0, rtol=1e-6)


def test_errors() -> None:
    x, y = _images(), rb.tensor(LABELS)
    with pytest.raises(ValueError, match="alpha"):
        mixup(x, y, alpha=0.0, num_classes=K)
    with pytest.raises(ValueError, match="class indices"):
        mixup(x, rb.tensor(LABELS[:3]), 1.0, K)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        mixup(x, y, 1.0, 3)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        cutmix(rb.tensor(np.zeros((N, 4), np.float32)), y, 1.0, K)
