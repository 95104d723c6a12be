"""Calibration (temperature scaling) and the choice of the acceptance threshold.

Temperature scaling divides the logits by one scalar T fitted on held-out data by minimising
the negative log-likelihood; it changes confidences, never the argmax. The threshold comes
from the automation curve: accepting the pieces whose confidence clears t, the fraction
accepted (automation) against the error rate among them; we take the lowest t (the most
automation) whose error among accepted meets the target.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rosenblatt._backend import np


def softmax(logits: Any, temperature: float = 1.0) -> Any:
    """Row-wise softmax of logits / T; (N, C) -> (N, C) float64."""
    z = np.asarray(logits, np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def nll(logits: Any, labels: Any, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of labels (N,) under softmax(logits / T)."""
    z = np.asarray(logits, np.float64) / temperature
    m = z.max(axis=1, keepdims=True)
    log_z = (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]
    return float(np.mean(log_z - z[np.arange(len(z)), np.asarray(labels)]))


def fit_temperature(logits: Any, labels: Any) -> float:
    """The T > 0 minimising nll(logits, labels, T): golden-section search over log T."""
    lo, hi = np.log(0.05), np.log(20.0)
    ratio = (np.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(logits, labels, np.exp(a)), nll(logits, labels, np.exp(b))
    for _ in range(60):  # the NLL is convex in 1/T, unimodal in log T
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(logits, labels, np.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(logits, labels, np.exp(b))
    return float(np.exp((lo + hi) / 2))


def automation_curve(confidence: Any, correct: Any) -> dict[str, Any]:
    """Accepting confidence >= t for each distinct t: automation and error among accepted."""
    confidence = np.asarray(confidence, np.float64)
    correct = np.asarray(correct, bool)
    order = np.argsort(-confidence, kind="stable")
    conf, ok = confidence[order], correct[order]
    n = len(conf)
    accepted = np.arange(1, n + 1)
    errors = np.cumsum(~ok)
    # one point per distinct confidence: the last index of each run of equal values
    last = np.r_[np.nonzero(conf[1:] != conf[:-1])[0], n - 1] if n else np.zeros(0, int)
    finite = np.isfinite(conf[last])
    last = last[finite]
    return {
        "threshold": conf[last],
        "automation": accepted[last] / max(n, 1),
        "error": errors[last] / accepted[last],
        "accepted": accepted[last],
        "n": n,
    }


MARGIN_Z = 1.28  # one-sided 90 % upper bound on the error of the accepted (Wilson score)


def error_upper_bound(errors: Any, accepted: Any, z: float = MARGIN_Z) -> Any:
    """Wilson score upper bound of an error rate seen as errors / accepted (arrays alike);
    z = 0 gives the rate itself."""
    k = np.asarray(accepted, np.float64)
    p = np.asarray(errors, np.float64) / k
    centre = p + z * z / (2 * k)
    spread = z * np.sqrt(p * (1 - p) / k + z * z / (4 * k * k))
    return (centre + spread) / (1 + z * z / k)


def choose_threshold(confidence: Any, correct: Any, target_error: float,
                     z: float = MARGIN_Z) -> dict[str, Any]:
    """The lowest threshold (most automation) whose error among accepted is <= target with
    a margin: its upper confidence bound (`error_upper_bound`, z) is. Picking the best point
    of a noisy curve is optimistic; the margin keeps the threshold's error on new fields
    near the target (z = 0: the curve's own error)."""
    curve = automation_curve(confidence, correct)
    bound = error_upper_bound(curve["error"] * curve["accepted"], curve["accepted"], z)
    ok = np.nonzero(bound <= target_error)[0]
    if len(ok) == 0:
        return {"threshold": 1.0, "automation": 0.0, "error": 0.0, "target_error": target_error,
                "z": z}
    k = int(ok[-1])
    return {"threshold": float(curve["threshold"][k]), "automation": float(curve["automation"][k]),
            "error": float(curve["error"][k]), "error_bound": float(bound[k]),
            "target_error": target_error, "z": z}


def reliability(confidence: Any, correct: Any, bins: int = 15) -> dict[str, Any]:
    """Per-bin mean confidence, accuracy and count, and the expected calibration error."""
    confidence = np.asarray(confidence, np.float64)
    correct = np.asarray(correct, np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    conf = np.bincount(which, confidence, bins) / np.maximum(count, 1)
    acc = np.bincount(which, correct, bins) / np.maximum(count, 1)
    ece = float(np.sum(count * np.abs(conf - acc)) / max(len(confidence), 1))
    return {"edges": edges, "confidence": conf, "accuracy": acc, "count": count, "ece": ece}


def plot_reliability(before: dict[str, Any], after: dict[str, Any], path: Path) -> None:
    """Reliability diagram (before and after temperature scaling) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect")
    for rel, name in ((before, "T = 1"), (after, "calibrated")):
        used = rel["count"] > 0
        ax.plot(rel["confidence"][used], rel["accuracy"][used], "o-",
                label=f"{name} (ECE {rel['ece']:.4f})")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title("Reliability of per-digit confidence")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_curve(curve: dict[str, Any], chosen: dict[str, Any], path: Path) -> None:
    """Automation rate against error among accepted, with the chosen operating point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(100 * curve["error"], 100 * curve["automation"], lw=1.5)
    ax.axvline(100 * chosen["target_error"], color="grey", ls="--", lw=1, label="target")
    ax.plot([100 * chosen["error"]], [100 * chosen["automation"]], "ro",
            label=f"t = {chosen['threshold']:.4f}")
    ax.set_xlabel("error rate among accepted ZIPs (%)")
    ax.set_ylabel("automation rate (%)")
    ax.set_xlim(0, max(5.0, 3 * 100 * chosen["target_error"]))
    ax.set_title("Automation against error (validation)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_calibration(path: Path, record: dict[str, Any]) -> None:
    """Write the calibration JSON atomically."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, path)


def load_calibration(path: Path) -> dict[str, Any] | None:
    """The calibration JSON, or None if there is none."""
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else None
