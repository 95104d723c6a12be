"""The classifier behind the reader: its modules read through `rosenblatt.compile` match
the modules run eagerly."""

from pathlib import Path

import numpy as np
import pytest

import rosenblatt as rb
from rosenblatt.apps.digits.model import (
    ArrayClassifier,
    Classifier,
    Compiled,
    ModuleClassifier,
    PairDetector,
    PairNet,
    SecondOpinion,
    TwoViewLeNet,
    elastic_distort,
    load_member,
    load_saved,
    member_widths,
    train_cnn,
    train_mlp,
)
from rosenblatt.apps.digits.preprocess import deskew, shifted_views
from rosenblatt.models import MLP, lenet5

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("widths", [{}, {"channels": (12, 32)},
                                    {"channels": (20, 50), "hidden": (300, 100)}])
def test_the_served_lenet_matches_the_module(widths):
    """In chunks of 64 (a remainder too), through one compiled plan for every batch size."""
    rb.manual_seed(3)
    module = lenet5(**widths).eval()
    for p in module.parameters():  # make every weight matter (default init is small)
        p.data.copy_(rb.randn(*p.shape) * 0.3)
    x = np.random.default_rng(0).uniform(0, 1, (300, 1, 28, 28)).astype(np.float32)
    with rb.no_grad():
        ref = module(rb.from_numpy(x)).numpy()
    classifier = ModuleClassifier(module, "l", {}, None)
    out = classifier(x)
    assert out.shape == (300, 10)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    assert classifier(x[:0]).shape == (0, 10)
    np.testing.assert_allclose(classifier(x[:5]), ref[:5], rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    explained = classifier.served.compiled.explain()
    assert explained.startswith("1 captured plan(s)") and "eager" not in explained, explained


@pytest.mark.parametrize("widths", [{}, {"channels": (8, 16), "hidden": 50}])
def test_the_served_pair_net_matches_the_module(widths):
    """The served PairNet (chunks of 64 blobs included) is the module in eval mode."""
    rb.manual_seed(4)
    module = PairNet(**widths).eval()
    for p in module.parameters():
        p.data.copy_(rb.randn(*p.shape) * 0.2)
    x = np.random.default_rng(1).uniform(0, 1, (150, 1, 28, 48)).astype(np.float32)
    with rb.no_grad():
        ref = module(rb.from_numpy(x)).numpy()
    out = ModuleClassifier(lenet5(), "c", {}, None, pairs=module).read_pairs(x)
    log_p = rb.nn.functional.log_softmax(rb.from_numpy(ref), dim=-1).numpy()
    np.testing.assert_allclose(out, log_p, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


def test_every_network_is_served_through_compile_as_its_own_forward():
    """Any LeNet-5 (tanh, average pooling), a subclass with its own forward, an MLP: the
    served reading is the module's; a TwoViewLeNet's members are compiled, its parameters
    shared with the module's."""
    rb.manual_seed(5)
    x = np.random.default_rng(5).uniform(0, 1, (70, 1, 28, 28)).astype(np.float32)
    halved = type("Halved", (type(lenet5()),), {"forward": lambda self, x: super(
        type(self), self).forward(x) / 2})()
    pair = TwoViewLeNet()
    pair.deskewed = lenet5(pool="avg")
    for module in (lenet5(activation="tanh"), halved, MLP(784, (32,), 10), pair):
        module.eval()
        with rb.no_grad():
            ref = module(rb.from_numpy(x)).numpy()
        classifier = ModuleClassifier(module, "m", {}, None)
        np.testing.assert_allclose(classifier(x), ref, rtol=1e-4, atol=1e-5)
    assert isinstance(classifier.served.plain, Compiled) and classifier.served is not pair
    assert classifier.served.plain.compiled._orig_mod is pair.plain


def test_two_view_lenet_averages_the_log_probabilities_of_both_views():
    """The module: mean of log_softmax(plain(x)) and log_softmax(deskewed(deskew(x)));
    its array twin gives the same numbers; gradients reach both members."""
    rb.manual_seed(4)
    pair = TwoViewLeNet().eval()
    for p in pair.parameters():
        p.data.copy_(rb.randn(*p.shape) * 0.3)
    x = np.random.default_rng(1).uniform(0, 1, (50, 1, 28, 28)).astype(np.float32)
    with rb.no_grad():
        out = pair(rb.from_numpy(x)).numpy()
        plain = rb.nn.functional.log_softmax(pair.plain(rb.from_numpy(x)), dim=1).numpy()
        turned = pair.deskewed(rb.from_numpy(deskew(x)))
        turned = rb.nn.functional.log_softmax(turned, dim=1).numpy()
    np.testing.assert_allclose(out, (plain + turned) / 2, rtol=1e-5, atol=1e-5)
    assert (np.exp(out).sum(1) <= 1 + 1e-6).all()  # a normalised geometric mean is <= 1
    np.testing.assert_allclose(ModuleClassifier(pair, "p", {}, None)(x), out, rtol=1e-4,
                               atol=1e-4)
    loss = rb.nn.functional.cross_entropy(pair(rb.from_numpy(x)), rb.from_numpy(np.arange(50) % 10))
    loss.backward()
    assert all(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in pair.parameters())


def test_the_fallback_mlp_learns_and_round_trips_through_safetensors(tmp_path):
    """train_mlp: a models.MLP trained by the Trainer; saved with rosenblatt.save and its
    card, it loads back as the same function under its name and version."""
    x, y = _bars(600, 0)
    model = train_mlp(x, y, epochs=3, hidden=(32, 16), batch_size=50, lr=3e-3)
    assert isinstance(model.module, MLP) and not model.module.training
    xt, yt = _bars(200, 1)
    assert (model(xt).argmax(axis=1) == yt).mean() > 0.9
    model.card["version"] = "7"
    model.save(tmp_path / "m.safetensors")
    assert set(rb.load(tmp_path / "m.safetensors")) == set(model.module.state_dict())
    again = load_saved(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(again(xt), model(xt))
    assert (again.name, again.version, again.path) == ("zip-mlp", "7", tmp_path / "m.safetensors")
    assert again.module.config["hidden"] == [32, 16] and again.passes is None


def test_without_a_committed_model_the_fallback_mlp_is_trained_once_and_cached(tmp_path,
                                                                                monkeypatch):
    from rosenblatt.apps.digits import model as model_module
    from rosenblatt.apps.digits.reader import calibration_path

    monkeypatch.setenv("ROSENBLATT_CACHE", str(tmp_path))
    monkeypatch.setattr(model_module, "training_digits", lambda: _bars(600, 0))
    said = []
    first = model_module.load_classifier(prefer_committed=False, log=said.append)
    path = tmp_path / "zip" / "zip-mlp.safetensors"
    assert first.path == path and path.exists() and path.with_suffix(".card.json").exists()
    assert "training the fallback MLP" in said[0] and len(said) == 1 + 12  # a line an epoch
    xt, yt = _bars(200, 1)
    assert (first(xt).argmax(axis=1) == yt).mean() > 0.9
    again = model_module.load_classifier(prefer_committed=False, train_if_missing=False)
    np.testing.assert_array_equal(again(xt), first(xt))
    assert again.name == "zip-mlp" and again.module.config["hidden"] == [384, 128]
    assert calibration_path(again) == tmp_path / "zip" / "zip-mlp.zip.json"


def test_the_small_reader_without_committed_weights_trains_a_small_mlp_once(tmp_path,
                                                                            monkeypatch):
    from rosenblatt.apps.digits import model as model_module
    from rosenblatt.apps.digits.reader import small_reader

    for name in ("committed_field_classifier", "committed_classifier"):
        monkeypatch.setattr(model_module, name, lambda: None)
    monkeypatch.setattr(model_module, "training_digits", lambda **kw: _bars(600, 0))
    reader = small_reader(tmp_path, fields=60)
    assert reader.classifier.name == "zip-mlp-small"
    assert (tmp_path / "small-mlp.safetensors").exists() and reader.temperature > 0

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(model_module, "train_mlp", no_training)
    again = small_reader(tmp_path, fields=60)
    assert again.classifier.name == "zip-mlp-small"
    assert again.calibration == reader.calibration


def test_an_old_numpy_model_in_the_cache_is_a_clear_error(tmp_path, monkeypatch):
    from rosenblatt.apps.digits import model as model_module

    monkeypatch.setenv("ROSENBLATT_CACHE", str(tmp_path))
    model_module.cache_dir()  # made on first use
    np.savez(tmp_path / "zip" / "zip-finetuned.npz", w1=np.zeros((784, 4)))
    with pytest.raises(ValueError, match="zip-finetuned.npz: a model in the old NumPy format"):
        model_module.load_classifier(train_if_missing=False)
    (tmp_path / "zip" / "zip-finetuned.npz").unlink()
    np.savez(tmp_path / "zip" / "zip-mlp.npz", w1=np.zeros((784, 4)))
    with pytest.raises(ValueError, match="zip-mlp.npz: .* delete it"):
        model_module.load_classifier(train_if_missing=False, prefer_committed=False)


def test_every_classifier_has_what_the_protocol_declares():
    """The reader asks for these without probing: both implementations have each one, and
    a model without pair readers or passes says None."""
    declared = {n for n in Classifier.__annotations__} | {
        n for n, v in vars(Classifier).items() if isinstance(v, property)}
    assert declared == {"name", "version", "card", "path", "pair_weight", "detector_weight",
                        "passes", "read_pairs", "detect_pairs"}
    plain = ArrayClassifier(lambda x: np.zeros((len(x), 10)))
    module = ModuleClassifier(lenet5(), "c", {"version": "3"}, None)
    for clf in (plain, module):
        assert all(hasattr(clf, n) for n in declared)
        assert clf.passes is None and clf.read_pairs is None and clf.detect_pairs is None
        assert clf(np.zeros((2, 1, 28, 28), np.float32)).shape == (2, 10)
    assert (plain.version, module.version) == ("1", "3")


def test_warm_captures_one_plan_for_every_batch_size_of_each_committed_network():
    """What the reader's workers inherit: each served network (the members, their Sideways,
    the PairNet and detector) has one plan, which follows the batch size."""
    from rosenblatt.apps.digits import model as model_module

    classifier = model_module.committed_field_classifier()
    if classifier is None or classifier.pairs is None or classifier.detector is None:
        pytest.skip("no committed field-digit weights")
    classifier.warm()
    nets = [m for m in classifier.served.modules() if isinstance(m, Compiled)]
    nets += [classifier.pairs_served, classifier.detector_served]
    nets += [s for net in nets for s in net.sideways.values()]
    assert len(nets) == 8  # 4 members, 2 Sideways of the wide pair, PairNet, detector
    for net in nets:
        plans = list(net.compiled._plans.values())
        assert len(plans) == 1 and plans[0].batch == model_module.CAPTURE_ROWS, \
            net.compiled.explain()


def test_a_fresh_checkout_reads_with_the_committed_field_digit_model(tmp_path, monkeypatch):
    """No cache folder: the reader loads the committed SecondOpinion (lenet5_zip_pair and
    wide_zip_pair) with its committed calibration, and reads on plain arrays."""
    from rosenblatt.apps.digits import model as model_module
    from rosenblatt.apps.digits.reader import ZipReader, calibration_path

    if not (model_module.FIELD_WEIGHTS.exists() and model_module.WIDE_WEIGHTS.exists()):
        pytest.skip("no committed field-digit weights")
    monkeypatch.setenv("ROSENBLATT_CACHE", str(tmp_path))
    classifier = model_module.load_classifier(train_if_missing=False)
    assert classifier.name == "zip_cascade" and isinstance(classifier.served, SecondOpinion)
    assert classifier.card["module"] == "SecondOpinion" and classifier.passes is not None
    assert member_widths(classifier.module.second.plain.state_dict())["channels"] == (20, 50)
    assert isinstance(classifier.pairs, PairNet) and classifier.read_pairs is not None
    assert classifier.pair_weight == classifier.card["pair_weight"] > 0
    path = calibration_path(classifier)
    assert path == model_module.WEIGHTS_DIR / "zip_cascade.zip.json" and path.exists()
    reader = ZipReader.load(classifier, calibrate_if_missing=False)
    assert reader.calibration["model"] == "zip_cascade" and 0.5 < reader.threshold < 1
    assert not list(tmp_path.rglob("*.safetensors"))  # nothing trained or written on load


def test_without_the_wide_pair_the_lenet_pair_reads_alone(monkeypatch, tmp_path):
    from rosenblatt.apps.digits import model as model_module

    if not model_module.FIELD_WEIGHTS.exists():
        pytest.skip("no committed field-digit weights")
    monkeypatch.setattr(model_module, "WIDE_WEIGHTS", tmp_path / "missing.safetensors")
    classifier = model_module.committed_field_classifier()
    assert classifier.name == "lenet5_zip_pair" and isinstance(classifier.served, TwoViewLeNet)
    assert classifier.passes is None


def test_the_committed_pair_net_reads_touching_pairs_of_test_digits(monkeypatch):
    """On touching pairs cut out of fields of MNIST TEST digits (never trained on), the
    committed PairNet reads both digits of most pairs, better than chance by far."""
    from rosenblatt.apps.digits import model as model_module

    if not model_module.PAIR_WEIGHTS.exists():
        pytest.skip("no committed pair reader")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    from train_zip_pairs import _pairs, pair_accuracy

    x, y = _pairs(("evaluation", 3, 300))
    assert len(y) >= 250  # almost every field's touching pair is one blob
    both, each = pair_accuracy(model_module.committed_pair_net(), x, y)
    assert both >= 0.9 and each >= 0.94


def test_the_committed_pair_detector_tells_touching_pairs_from_wide_digits(monkeypatch):
    """On the wide blobs of fields of MNIST TEST digits (half of them with a touching pair),
    the committed detector says "two digits" of most pairs and "one" of most single digits;
    the classifier loads it with its weight from the card."""
    from rosenblatt.apps.digits import model as model_module

    if not model_module.DETECTOR_WEIGHTS.exists():
        pytest.skip("no committed pair detector")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    from train_pair_detector import detector_accuracy
    from train_zip_pairs import _pairs

    x, y = _pairs(("evaluation", 4, 300, 0.5, True))
    is_pair = y[:, 0] >= 0
    assert is_pair.sum() >= 100 and (~is_pair).sum() >= 100
    accuracy, pairs, singles = detector_accuracy(model_module.committed_pair_detector(), x,
                                                 is_pair)
    assert accuracy >= 0.95 and pairs >= 0.9 and singles >= 0.95
    classifier = model_module.committed_field_classifier()
    assert isinstance(classifier.detector, PairDetector)
    assert classifier.detector_weight == classifier.card["detector_weight"] > 0
    logits = classifier.detect_pairs(x[:50, None].astype(np.float32))
    assert logits.shape == (50,) and ((logits > 0) == is_pair[:50]).mean() >= 0.9


def _random_second_opinion(seed):
    """A SecondOpinion of small random pairs whose every weight matters, `below` set so that
    about half of _digits() are re-read."""
    rb.manual_seed(seed)
    module = SecondOpinion({}, {"channels": (8, 20), "hidden": (64, 32)}).eval()
    for p in module.parameters():  # every weight matters, yet no probability saturates at 1
        p.data.copy_(rb.randn(*p.shape) * 0.12)
    x = np.random.default_rng(seed).uniform(0, 1, (60, 1, 28, 28)).astype(np.float32)
    with rb.no_grad():
        first = module.first(rb.from_numpy(x)).numpy()
        second = module.second.views(rb.from_numpy(x), module.shifts).numpy().mean(axis=0)
    confidence = np.exp(first - np.log(np.exp(first).sum(1, keepdims=True))).max(1)
    ranked = np.sort(confidence)  # halfway between two digits: no digit sits on the edge
    module.below = float(ranked[29] + ranked[30]) / 2
    return module, x, first, second, confidence


def test_second_opinion_rereads_only_the_unsure_digits():
    """Digits the fast pair reads with max probability >= below keep its output exactly; the
    others get (fast + 2 x wide) / 3, wide the mean over the shifted views; the served
    module and its two passes agree."""
    module, x, first, second, confidence = _random_second_opinion(5)
    assert len(module.shifts) == 3  # the committed model's views
    with rb.no_grad():
        as_cut = module.second(rb.from_numpy(x)).numpy()
    assert np.abs(second - as_cut).max() > 1e-3  # the shifted views change the reading
    unsure = confidence < module.below
    assert 10 < unsure.sum() < 50
    with rb.no_grad():
        out = module(rb.from_numpy(x)).numpy()
    np.testing.assert_array_equal(out[~unsure], first[~unsure])
    np.testing.assert_allclose(out[unsure], (first[unsure] + 2 * second[unsure]) / 3,
                               rtol=1e-5, atol=1e-5)
    classifier = ModuleClassifier(module, "s", {}, None)
    np.testing.assert_allclose(classifier(x), out, rtol=1e-4, atol=1e-4)
    first_pass, second_pass = classifier.passes
    z = first_pass(x)
    np.testing.assert_allclose(z, first, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(second_pass(x, z), out, rtol=1e-4, atol=1e-4)
    assert second_pass(x[:0], z[:0]).shape == (0, 10)
    module.below = 0.0  # nothing is unsure: the wide pair is never run
    with rb.no_grad():
        np.testing.assert_array_equal(module(rb.from_numpy(x)).numpy(), first)


def test_second_opinion_with_one_view_reads_the_digit_as_cut():
    module, x, first, _, confidence = _random_second_opinion(7)
    module.shifts = ((0, 0),)
    unsure = confidence < module.below
    with rb.no_grad():
        out = module(rb.from_numpy(x)).numpy()
        wide = module.second(rb.from_numpy(x[unsure])).numpy()
    np.testing.assert_allclose(out[unsure], (first[unsure] + 2 * wide) / 3, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ModuleClassifier(module, "s", {}, None)(x), out, rtol=1e-4,
                               atol=1e-4)


def test_two_view_lenet_reads_moved_digits_and_moved_deskewed_digits():
    module, x, _, _, _ = _random_second_opinion(8)
    pair, shifts = module.second, ((0, 0), (0, 1), (1, -2))
    with rb.no_grad():
        views = pair.views(rb.from_numpy(x), shifts).numpy()
        plain = pair.plain(rb.from_numpy(shifted_views(x, shifts))).numpy()
        turned = pair.deskewed(rb.from_numpy(shifted_views(deskew(x), shifts))).numpy()
    log_softmax = rb.nn.functional.log_softmax
    expected = (log_softmax(rb.from_numpy(plain), dim=1) + log_softmax(rb.from_numpy(turned),
                                                                      dim=1)).numpy()
    np.testing.assert_allclose(views, expected.reshape(3, 60, 10) / 2, rtol=1e-5, atol=1e-5)
    served = ModuleClassifier(pair, "p", {}, None).served
    with rb.no_grad():
        np.testing.assert_allclose(served.views(rb.from_numpy(x), shifts).numpy(), views,
                                   rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shifts", [((0, 0), (0, 1), (0, -1)), ((0, -1),), ((0, 1), (0, 0)),
                                    ((1, 0), (0, 1))])
def test_a_served_lenet_shares_the_work_of_sideways_views(shifts):
    """Compiled.moved equals reading each shifted view: digits clear of the edge columns
    take the shared path (`Sideways`), those with ink there (and moves other than one column
    sideways) are read one view at a time."""
    module, _, _, _, _ = _random_second_opinion(9)
    net = Compiled(module.second.plain)
    x = np.zeros((70, 1, 28, 28), np.float32)
    rng = np.random.default_rng(9)
    x[:, :, 2:26, 1:27] = rng.uniform(0, 1, (70, 1, 24, 26))
    x[5, 0, 10, 0] = x[6, 0, 3, 27] = 0.5  # ink in an edge column
    with rb.no_grad():
        out = net.moved(x, shifts).numpy()
        expected = module.second.plain(rb.from_numpy(shifted_views(x, shifts))).numpy()
        assert net.moved(x[:0], shifts).shape == (len(shifts), 0, 10)
    assert out.shape == (len(shifts), 70, 10)
    np.testing.assert_allclose(out, expected.reshape(len(shifts), 70, 10), rtol=1e-4, atol=1e-4)
    for sideways in net.sideways.values():  # one plan for the chunks of 16 and the rest
        assert "eager" not in sideways.compiled.explain(), sideways.compiled.explain()


def test_shifted_views_move_the_ink_by_whole_pixels_with_zeros_coming_in():
    x = np.arange(2 * 28 * 28, dtype=np.float32).reshape(2, 1, 28, 28)
    views = shifted_views(x, [(0, 0), (1, 0), (0, -2), (-1, 3)])
    assert views.shape == (8, 1, 28, 28)
    np.testing.assert_array_equal(views[:2], x)
    np.testing.assert_array_equal(views[2:4, :, 1:], x[:, :, :-1])  # down one row
    assert not views[2:4, :, 0].any()
    np.testing.assert_array_equal(views[4:6, :, :, :-2], x[:, :, :, 2:])  # left two columns
    assert not views[4:6, :, :, -2:].any()
    np.testing.assert_array_equal(views[6:, :, :-1, 3:], x[:, :, 1:, :-3])  # up one, right 3
    assert not views[6:, :, -1].any() and not views[6:, :, :, :3].any()
    assert not shifted_views(x, [(28, 0)]).any()  # moved out of the box entirely


def test_second_opinion_trains_both_pairs_and_round_trips(tmp_path):
    from rosenblatt.apps.digits.model import _saved_module

    module, x, _, _, _ = _random_second_opinion(6)
    module.train()
    loss = rb.nn.functional.cross_entropy(module(rb.from_numpy(x)),
                                          rb.from_numpy(np.arange(60) % 10))
    loss.backward()
    assert all(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in module.parameters())
    module.eval()
    rb.save(module.state_dict(), tmp_path / "c.safetensors")
    (tmp_path / "c.json").write_text('{"module": "SecondOpinion"}')
    loaded, card = _saved_module(tmp_path / "c.safetensors", tmp_path / "c.json")
    assert isinstance(loaded, SecondOpinion) and card["module"] == "SecondOpinion"
    assert member_widths(loaded.second.plain.state_dict())["hidden"] == (64, 32)
    loaded.below = module.below
    with rb.no_grad():
        np.testing.assert_allclose(loaded(rb.from_numpy(x)).numpy(),
                                   module(rb.from_numpy(x)).numpy(), rtol=1e-6)
    assert isinstance(ModuleClassifier(loaded, "c", card, None).served, SecondOpinion)


def test_pair_net_reads_two_digits_and_learns_a_separable_task(monkeypatch, capsys):
    """(N, 1, 28, 48) -> (N, 2, 10); both heads train: on blobs whose left and right halves
    each show their digit's own bar pattern, the example's recipe (train_zip_pairs.train:
    fit_digits with a loss over both digits, one-cycle, float16 blobs) reads both digits."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, size=(320, 2))
    x = np.zeros((320, 28, 48), np.float32)
    for side in (0, 1):  # digit d: a bar at rows 2d+4 .. 2d+5 of its half
        for d in range(10):
            rows = np.flatnonzero(y[:, side] == d)
            x[rows, 4 + 2 * d : 6 + 2 * d, 4 + 22 * side : 22 + 22 * side] = 1.0
    x = (x + rng.normal(0, 0.1, x.shape)).astype(np.float16)  # as the example caches them
    monkeypatch.syspath_prepend(str(EXAMPLES))
    from train_zip_pairs import pair_accuracy, train

    net = train(x[:256], y[:256], x[256:], y[256:], epochs=6, batch=64, lr=3e-3, seed=0)
    assert not net.training
    assert net(rb.from_numpy(x[:3, None].astype(np.float32))).shape == (3, 2, 10)
    assert pair_accuracy(net, x[256:], y[256:])[1] > 0.95
    assert capsys.readouterr().out.count("validation pairs") == 6


def test_the_pair_detector_recipe_learns_one_blob_from_two(monkeypatch, capsys):
    """train_pair_detector.train (fit_digits with binary cross-entropy on float targets)
    tells blobs with a bar in each half from blobs with one bar in the middle."""
    rng = np.random.default_rng(3)
    is_pair = rng.random(320) < 0.5
    x = rng.normal(0, 0.1, (320, 28, 48)).astype(np.float32)
    x[is_pair, 8:20, 8:12] += 1.0
    x[is_pair, 8:20, 36:40] += 1.0
    x[~is_pair, 8:20, 22:26] += 1.0
    monkeypatch.syspath_prepend(str(EXAMPLES))
    from train_pair_detector import detector_accuracy, train

    net = train(x[:256], is_pair[:256], x[256:], is_pair[256:], epochs=4, batch=64, lr=3e-3,
                seed=0)
    assert isinstance(net, PairDetector) and not net.training
    accuracy, pairs, singles = detector_accuracy(net, x[256:], is_pair[256:])
    assert accuracy > 0.95 and pairs > 0.9 and singles > 0.9
    assert capsys.readouterr().out.count("validation accuracy") == 4


def test_pair_detector_gives_one_logit_per_blob_on_arrays_too():
    rb.manual_seed(2)
    net = PairDetector().eval()
    x = np.random.default_rng(2).random((70, 1, 28, 48)).astype(np.float32)
    with rb.no_grad():
        ref = net(rb.from_numpy(x)).numpy()
    assert ref.shape == (70,)
    clf = ModuleClassifier(lenet5(), "c", {}, None, detector=net, detector_weight=0.5)
    np.testing.assert_allclose(clf.detect_pairs(x), ref, rtol=1e-4, atol=1e-5)
    assert ModuleClassifier(lenet5(), "c", {}, None).detect_pairs is None


def test_module_classifier_reads_pairs_only_with_a_pair_net():
    """read_pairs gives log-probabilities per digit of the pair; without a PairNet it is None
    (the reader then keeps the cut reading)."""
    rb.manual_seed(1)
    net = PairNet().eval()
    clf = ModuleClassifier(lenet5(), "c", {}, None, pairs=net, pair_weight=2.0)
    x = np.random.default_rng(1).random((5, 1, 28, 48)).astype(np.float32)
    lp = clf.read_pairs(x)
    assert lp.shape == (5, 2, 10)
    np.testing.assert_allclose(np.exp(lp).sum(axis=2), 1.0, rtol=1e-5)
    with rb.no_grad():
        z = net(rb.from_numpy(x)).numpy()
    np.testing.assert_array_equal(lp.argmax(axis=2), z.argmax(axis=2))
    assert ModuleClassifier(lenet5(), "c", {}, None).read_pairs is None


def test_elastic_distortion_moves_only_the_picked_digits_smoothly():
    rng = np.random.default_rng(0)
    x = np.zeros((64, 1, 28, 28), np.float32)
    x[:, 0, 8:20, 12:16] = 1.0  # a bar, like a "1"
    out = elastic_distort(x, np.random.default_rng(5), p=0.5)
    changed = np.abs(out - x).reshape(64, -1).max(axis=1) > 1e-3
    assert 16 <= changed.sum() <= 48  # about half the batch, the rest untouched
    np.testing.assert_array_equal(out[~changed], x[~changed])
    # moved by a pixel or two, stretched or squeezed, but neither wiped out nor thrown away
    ink = out[changed, 0]
    assert np.all((ink.sum(axis=(1, 2)) > 0.4 * 48) & (ink.sum(axis=(1, 2)) < 2 * 48))
    rows = np.arange(28)[:, None]
    centre_row = (ink * rows).sum(axis=(1, 2)) / ink.sum(axis=(1, 2))
    assert np.all(np.abs(centre_row - 13.5) < 4)
    np.testing.assert_array_equal(out, elastic_distort(x, np.random.default_rng(5), p=0.5))
    np.testing.assert_allclose(elastic_distort(x, rng, alpha=0.0, p=1.0), x, atol=1e-6)


def test_member_widths_round_trip_through_saved_weights(tmp_path):
    wide = lenet5(channels=(10, 24), hidden=(200, 60))
    assert member_widths(wide.state_dict()) == {"channels": (10, 24), "hidden": (200, 60)}
    rb.save(wide.state_dict(), tmp_path / "w.safetensors")
    loaded = load_member(tmp_path / "w.safetensors")
    assert loaded.config["channels"] == (10, 24) and not loaded.training
    x = rb.rand(3, 1, 28, 28)
    with rb.no_grad():
        np.testing.assert_allclose(loaded(x).numpy(), wide.eval()(x).numpy(), rtol=1e-6)


def _bars(n, seed):
    """A clearly learnable 10-class task: class k is a bright bar in row band k."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = 0.1 * rng.standard_normal((n, 1, 28, 28)).astype(np.float32)
    for i, k in enumerate(y):
        x[i, 0, 2 + 2 * k : 4 + 2 * k, 4:24] += 1.0
    return x, y


def test_distillation_pulls_the_student_towards_its_teacher():
    """With distill=1 the labels are ignored: a student taught by a teacher that reads every
    bar as the class after it learns that shifted mapping, not the labels."""
    x, y = _bars(600, 0)
    teacher = train_cnn(x, (y + 1) % 10, epochs=4, lr=3e-3, batch_size=50, seed=1).module
    student = train_cnn(x, y, epochs=4, lr=3e-3, batch_size=50, seed=2, teacher=teacher,
                        distill=1.0, distill_temperature=2.0)
    xt, yt = _bars(200, 1)
    read = student(xt).argmax(axis=1)
    assert (read == (yt + 1) % 10).mean() > 0.9
    plain = train_cnn(x, y, epochs=4, lr=3e-3, batch_size=50, seed=2)
    assert (plain(xt).argmax(axis=1) == yt).mean() > 0.9


def test_saved_pair_gets_its_member_widths_from_its_weights(tmp_path):
    import json

    from rosenblatt.apps.digits.model import _saved_module

    pair = TwoViewLeNet(channels=(8, 20))
    rb.save(pair.state_dict(), tmp_path / "p.safetensors")
    card = {"module": "TwoViewLeNet"}
    (tmp_path / "p.json").write_text(json.dumps(card))
    module, _ = _saved_module(tmp_path / "p.safetensors", tmp_path / "p.json")
    assert module.plain.config["channels"] == (8, 20)
    assert isinstance(ModuleClassifier(module, "p", card, None).served, TwoViewLeNet)
