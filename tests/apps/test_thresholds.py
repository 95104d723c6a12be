"""Temperature scaling and threshold selection."""

import numpy as np

from rosenblatt.apps.digits import thresholds as th
from rosenblatt.apps.digits.reader import field_logits
from rosenblatt.apps.digits.synth import make_fields


def _sample_labels(logits, temperature, rng):
    p = np.exp(logits / temperature - (logits / temperature).max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return np.array([rng.choice(p.shape[1], p=row) for row in p])


def test_fit_temperature_recovers_the_true_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 4, (4000, 10))
    labels = _sample_labels(logits, 2.5, rng)
    t = th.fit_temperature(logits, labels)
    assert abs(t - 2.5) / 2.5 < 0.1
    # the fitted T is a minimum of the NLL
    assert th.nll(logits, labels, t) <= min(th.nll(logits, labels, t * 0.9),
                                            th.nll(logits, labels, t * 1.1))


def test_nll_matches_torch():
    import torch

    rng = np.random.default_rng(1)
    logits = rng.normal(0, 3, (50, 10))
    labels = rng.integers(0, 10, 50)
    ref = torch.nn.functional.cross_entropy(torch.tensor(logits / 1.7), torch.tensor(labels))
    assert np.isclose(th.nll(logits, labels, 1.7), float(ref), rtol=1e-9)


def test_temperature_scaling_lowers_nll_on_held_out_digits(zip_reader):
    """Fit T on the digits of half the fields; the NLL of the other half's digits goes down."""
    fields = make_fields(300, part="calibration", seed=77)
    logits, labels, owner, _ = field_logits(zip_reader, fields)
    # the committed field-digit model is nearly calibrated already (T ~ 1.1), so make it
    # clearly over-confident: what is tested is that T fitted on one half helps the other
    logits = logits * 3.0
    fit, held = owner < 150, owner >= 150
    assert fit.sum() > 300 and held.sum() > 300
    t = th.fit_temperature(logits[fit], labels[fit])
    assert t != 1.0
    before = th.nll(logits[held], labels[held])
    after = th.nll(logits[held], labels[held], t)
    assert after < before
    # it changes confidences, never the argmax
    assert (th.softmax(logits, t).argmax(1) == logits.argmax(1)).all()


def test_chosen_threshold_meets_the_target_on_the_validation_curve():
    rng = np.random.default_rng(3)
    n = 5000
    confidence = rng.uniform(0.3, 1.0, n)
    correct = rng.uniform(0, 1, n) < confidence ** 0.5  # more confident, more often right
    for target in (0.005, 0.02, 0.1):
        chosen = th.choose_threshold(confidence, correct, target, z=0.0)
        accepted = confidence >= chosen["threshold"]
        error = 1 - correct[accepted].mean()
        assert error <= target + 1e-12
        assert np.isclose(accepted.mean(), chosen["automation"])
        # the most automation: accepting even one more distinct confidence breaks the target
        lower = confidence[confidence < chosen["threshold"]]
        if len(lower):
            more = confidence >= lower.max()
            assert 1 - correct[more].mean() > target - 1e-12 or more.sum() == accepted.sum()


def test_a_margin_on_the_error_picks_a_stricter_threshold_that_holds_on_new_data():
    """With z > 0 the threshold's Wilson upper bound, not its observed error, meets the
    target: fewer accepted on the curve it was chosen on, and on fresh draws of the same
    population its error stays at or under the target more often than without a margin."""
    rng = np.random.default_rng(5)

    def draw(n):
        confidence = rng.uniform(0.5, 1.0, n)
        return confidence, rng.uniform(0, 1, n) < confidence ** 0.1

    confidence, correct = draw(4000)
    plain = th.choose_threshold(confidence, correct, 0.01, z=0.0)
    careful = th.choose_threshold(confidence, correct, 0.01)
    assert careful["z"] == th.MARGIN_Z and careful["threshold"] > plain["threshold"]
    assert careful["automation"] < plain["automation"] and careful["error"] <= 0.01
    assert careful["error_bound"] <= 0.01 < th.error_upper_bound(
        plain["error"] * plain["automation"] * 4000, plain["automation"] * 4000)
    held = {"plain": 0, "careful": 0}
    for _ in range(40):
        c, ok = draw(4000)
        for name, chosen in (("plain", plain), ("careful", careful)):
            accepted = c >= chosen["threshold"]
            held[name] += 1 - ok[accepted].mean() <= 0.01
    assert held["careful"] > held["plain"]
    # the bound: above the rate, tighter with more data, the rate itself at z = 0
    assert th.error_upper_bound(5, 1000) > 0.005 > th.error_upper_bound(50, 10000) - 0.002
    assert th.error_upper_bound(5, 1000, z=0.0) == 0.005


def test_automation_curve_is_monotone_and_skips_unreadable_pieces():
    confidence = np.array([0.9, 0.8, -np.inf, 0.8, 0.6])
    correct = np.array([True, False, False, True, True])
    curve = th.automation_curve(confidence, correct)
    assert np.all(np.diff(curve["threshold"]) < 0)
    assert np.all(np.diff(curve["automation"]) > 0)
    assert np.allclose(curve["automation"], [0.2, 0.6, 0.8])
    assert np.allclose(curve["error"], [0.0, 1 / 3, 0.25])


def test_reliability_of_calibrated_scores_is_near_the_diagonal(tmp_path):
    rng = np.random.default_rng(4)
    confidence = rng.uniform(0.1, 1.0, 20000)
    correct = rng.uniform(0, 1, 20000) < confidence
    rel = th.reliability(confidence, correct)
    assert rel["ece"] < 0.02
    skewed = th.reliability(np.sqrt(confidence), correct)
    assert skewed["ece"] > 0.05
    th.plot_reliability(skewed, rel, tmp_path / "rel.png")
    chosen = th.choose_threshold(confidence, correct, 0.05)
    th.plot_curve(th.automation_curve(confidence, correct), chosen, tmp_path / "curve.png")
    for name in ("rel.png", "curve.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_calibration_record_round_trips(tmp_path):
    record = {"temperature": 1.3, "threshold": 0.97, "validation": {"fields": 10}}
    th.save_calibration(tmp_path / "m.zip.json", record)
    assert th.load_calibration(tmp_path / "m.zip.json") == record
    assert th.load_calibration(tmp_path / "missing.json") is None
