"""The reader's decisions and reasons, on synthetic fields and single digits."""

import io

import numpy as np
from PIL import Image

from rosenblatt.apps.digits.model import ArrayClassifier
from rosenblatt.apps.digits.preprocess import Segmentation, preprocess_field
from rosenblatt.apps.digits.reader import ZipReader, choose_pieces, evaluate, pair_bonus
from rosenblatt.apps.digits.synth import FieldSynth, make_fields, mnist_test_half


def test_accepts_only_five_confident_digits(zip_reader):
    fields = make_fields(40, part="evaluation", seed=8)
    readings = zip_reader.read_fields([f.image for f in fields])
    for r in readings:
        assert r.decision in ("accept", "review")
        assert len(r.text) == len(r.confidences) == len(r.probabilities) == len(r.inputs)
        if r.decision == "accept":
            assert len(r.text) == 5 and not r.reasons
            assert min(r.confidences) >= zip_reader.threshold
        else:
            assert r.reasons
        for why in r.reasons:
            if why["reason"] == "low_confidence":
                assert r.confidences[why["position"]] < zip_reader.threshold
            elif why["reason"] == "digit_count":
                assert why["count"] == len(r.text) != 5
        assert np.allclose(np.sum(r.probabilities, axis=1), 1.0)
    # the reading is right far more often than chance on the evaluation half
    right = np.mean([r.text == f.zip for r, f in zip(readings, fields)])
    assert right >= 0.3


def test_four_digits_go_to_review_with_the_count():
    images, labels = mnist_test_half("evaluation")
    # ones: too narrow to be two touching digits, so no cut of them can make a fifth digit
    # (a classifier sure of every piece, as this one, would read a wide digit cut in two)
    ones = labels == 1
    field = FieldSynth(images[ones], labels[ones], seed=3, p_touch=0.0).sample()
    four = field.image[:, : field.boxes[3][2] + 1]
    reader = ZipReader(ArrayClassifier(lambda x: np.tile(np.eye(10)[[3]] * 20, (len(x), 1))),
                       threshold=0.5)
    r = reader.read_field(four)
    assert r.decision == "review"
    assert {"reason": "digit_count", "count": 4} in r.reasons


def test_low_confidence_reasons_name_positions():
    images, labels = mnist_test_half("evaluation")
    field = FieldSynth(images, labels, seed=3, p_touch=0.0, p_break=0.0).sample()
    flat = ZipReader(ArrayClassifier(lambda x: np.zeros((len(x), 10))),  # uniform: 0.1 each
                     threshold=0.5)
    r = flat.read_field(field.image)
    assert r.decision == "review"
    positions = [w["position"] for w in r.reasons if w["reason"] == "low_confidence"]
    assert positions == list(range(len(r.text)))


def test_reading_turns_classify_output_into_the_answer():
    """`ZipReader.reading`: calibrated probabilities (softmax(z / T)), the decision and its
    reasons, boxes scaled back to the image's pixels, the inputs passed through."""
    reader = ZipReader(ArrayClassifier(lambda x: x), temperature=2.0, threshold=0.9)
    z = np.zeros((2, 10), np.float32)
    z[0, 7], z[1, 2] = 20.0, 2.0  # sure of a 7; a 2 at softmax(1, 0 x 9) / T = 2: ~0.23
    inputs = np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32)
    seg = Segmentation(inputs, scale=0.5)
    r = reader.reading(seg, (z, inputs, [(1, 2, 10, 20), (11, 3, 21, 19)]), 2, 0.9,
                       {"network": 1.5})
    want = np.exp(z / 2) / np.exp(z / 2).sum(axis=1, keepdims=True)
    assert r.text == "72" and r.decision == "review"
    np.testing.assert_allclose(r.probabilities, want, rtol=1e-6)
    np.testing.assert_allclose(r.confidences, want.max(axis=1), rtol=1e-6)
    assert r.reasons == [{"reason": "low_confidence", "position": 1,
                          "confidence": round(float(want[1].max()), 6)}]
    assert r.boxes == [(2, 4, 20, 40), (22, 6, 42, 38)] and r.inputs is inputs
    assert r.timings_ms == {"network": 1.5}
    # the expected count is checked; a field with no ink is only that
    assert {"reason": "digit_count", "count": 2} in reader.reading(seg, (z, inputs, []), 5,
                                                                   0.9).reasons
    blank = reader.reading(Segmentation(inputs[:0], no_ink=True),
                           (z[:0], inputs[:0], []), 5, 0.9)
    assert (blank.text, blank.decision, blank.reasons) == ("", "review", [{"reason": "no_ink"}])


def test_blank_field_is_no_ink(zip_reader):
    r = zip_reader.read_field(np.full((48, 150, 3), (240, 235, 220), np.uint8))
    assert r.decision == "review" and r.reasons == [{"reason": "no_ink"}] and r.text == ""


def test_reads_single_mnist_digits(zip_reader):
    images, labels = mnist_test_half("evaluation")
    pngs = []
    for img in images[:60]:  # white on black as MNIST stores them, as PNG bytes
        buf = io.BytesIO()
        Image.fromarray(np.pad(img, 6)).save(buf, "PNG")
        pngs.append(buf.getvalue())
    readings = zip_reader.read_digits(pngs)
    accuracy = np.mean([r.text == str(y) for r, y in zip(readings, labels[:60])])
    assert accuracy >= 0.85


def test_evaluate_reports_rates(zip_reader):
    result = evaluate(zip_reader, n=30, seed=99)
    for key in ("digit_accuracy", "zip_accuracy", "automation_rate", "error_rate_among_accepted"):
        assert 0.0 <= result[key] <= 1.0
    assert result["zip_accuracy"] <= result["digit_accuracy"] + 1e-9
    assert result["fields_per_second"] > 0


def test_choose_pieces_keeps_the_surest_way_of_the_expected_count():
    # blob 0 is one digit; blob 1 is read whole (piece 1) or cut in two at two places
    choices = [[(0,)], [(1,), (2, 3), (4, 5)]]
    sure_second_cut = np.log([0.99, 0.99, 0.6, 0.5, 0.98, 0.97])
    assert choose_pieces(choices, sure_second_cut, expected=3) == [0, 4, 5]
    assert choose_pieces(choices, sure_second_cut, expected=None) == [0, 1]
    # another count than expected wins when the cut pieces read as no digit at all
    unsure_cuts = np.log([0.99, 0.99, 0.1, 0.1, 0.1, 0.1])
    assert choose_pieces(choices, unsure_cuts, expected=3) == [0, 1]


def test_the_pair_detector_decides_which_blob_is_cut_in_two():
    """Two wide blobs, either of which could be a touching pair (the count allows only one):
    with pieces read equally surely, the detector's say picks the blob cut in two, weighted
    by log-probabilities (log p(two) for a cut, log p(one) for the blob read whole)."""
    seg = Segmentation(np.zeros((4, 1, 28, 28), np.float32), [], False)
    seg.choices = [[(0,)], [(1,), (4, 5)], [(2,)], [(3,), (6, 7)]]
    seg.pair_of = {(4, 5): 0, (6, 7): 1}
    log_conf = np.log(np.full(8, 0.95))
    for logits, chosen in (([4.0, -4.0], [0, 4, 5, 2, 3]), ([-4.0, 4.0], [0, 1, 2, 6, 7])):
        bonus = pair_bonus(seg, np.array(logits), weight=0.5)
        assert choose_pieces(seg.choices, log_conf, 5, bonus) == chosen
    bonus = pair_bonus(seg, np.array([0.0, 30.0]), weight=2.0)
    assert bonus[0] == [0.0] and bonus[2] == [0.0]  # blobs with one way: no say
    np.testing.assert_allclose(bonus[1], [2 * np.log(0.5)] * 2)  # unsure: no preference
    np.testing.assert_allclose(bonus[3], [-60.0, 0.0], atol=1e-9)  # sure: no overflow
    # with a ZipReader, the detector is asked about the pair inputs of fields in doubt only
    seen = []

    def detect_pairs(x):
        seen.append(len(x))
        return np.array([-5.0, 5.0])[: len(x)]

    def net(x):
        return np.tile(np.log(np.full(10, 0.05) + 0.5 * np.eye(10)[3]), (len(x), 1))

    seg.pair_inputs = np.zeros((2, 1, 28, 48), np.float32)
    seg.inputs = np.zeros((4, 1, 28, 28), np.float32)
    seg.candidates = np.zeros((4, 1, 28, 28), np.float32)
    seg.boxes = seg.candidate_boxes = [(0, 0, 1, 1)] * 4
    plain = Segmentation(np.zeros((5, 1, 28, 28), np.float32), [(0, 0, 1, 1)] * 5, False)
    reader = ZipReader(ArrayClassifier(net, "stub", detect_pairs=detect_pairs))
    read = reader.classify([plain, seg], 5)
    assert seen == [2] and len(read[1][0]) == 5
    logits = reader.logits(seg.pieces())
    assert reader.pick(seg, logits, 5, np.array([-5.0, 5.0])) == [0, 1, 2, 6, 7]
    reader.choose(seg, logits, 5)
    assert seen == [2, 2]


def test_touching_pair_is_cut_where_the_network_reads_it(zip_reader):
    """A field whose touching pair '41' the projection-minimum cut alone reads as '44':
    among the other cuts tried, the network's most confident reading is the right one."""
    images, labels = mnist_test_half("calibration")
    synth = FieldSynth(images, labels, seed=5, p_touch=1.0)
    field = [synth.sample() for _ in range(43)][42]
    assert field.zip == "41472" and field.touching == [0]
    seg = preprocess_field(field.image)
    assert seg.choices and len(seg.candidates) > 0
    default = "".join(str(d) for d in zip_reader.logits(seg.inputs).argmax(axis=1))
    assert default != field.zip
    r = zip_reader.read_field(field.image)
    assert r.text == field.zip
    assert len(r.boxes) == len(r.inputs) == 5  # what is shown is what was read


def test_the_second_opinion_rereads_only_the_pieces_kept(zip_reader, monkeypatch):
    """With a SecondOpinion model the cut is chosen by the fast pair; the wide pair then
    re-reads only the kept pieces, whose outputs equal the whole model's on them."""
    import pytest

    passes = zip_reader.classifier.passes
    if passes is None:
        pytest.skip("the reader's model has no second opinion")
    segs = [preprocess_field(f.image) for f in make_fields(60, part="calibration", seed=4)]
    seen = []

    def second(x, z):
        seen.append(len(x))
        return passes[1](x, z)

    monkeypatch.setattr(type(zip_reader.classifier), "passes",
                        property(lambda self: (passes[0], second)))
    monkeypatch.setattr(type(zip_reader.classifier), "read_pairs", None)  # the cut alone
    read = zip_reader.classify(segs, 5)
    kept = sum(len(x) for _, x, _ in read)
    assert seen == [kept] and kept < sum(len(s.pieces()) for s in segs)
    for z, x, _ in read:
        np.testing.assert_allclose(z, zip_reader.classifier(x), rtol=1e-5, atol=1e-5)


def _paired_stub():
    """A classifier sure of digit 3 on every piece and of (7, 1) on every pair read whole,
    and the list of how many pairs each read_pairs call was given."""
    seen = []

    def read_pairs(x):
        seen.append(len(x))
        p = np.full((len(x), 2, 10), 0.01)
        p[:, 0, 7] = p[:, 1, 1] = 0.91
        return np.log(p)

    def net(x):
        return np.tile(np.log(np.full(10, 0.02) + 0.78 * np.eye(10)[3]), (len(x), 1))

    return ArrayClassifier(net, "stub", pair_weight=3.0, read_pairs=read_pairs), seen


def test_a_pair_cut_in_two_is_also_read_whole_and_the_readings_mixed():
    """Where the reading keeps a blob cut in two, both digits get (cut + w x whole) / (1 + w)
    of the classifier's `read_pairs`; other digits keep the cut reading; the batch path
    (classify) and the one-field path (choose, as the service reads) agree."""
    images, labels = mnist_test_half("calibration")
    synth = FieldSynth(images, labels, seed=5, p_touch=1.0)
    segs = [preprocess_field(f.image) for f in (synth.sample() for _ in range(40))]
    stub, pairs_seen = _paired_stub()
    reader = ZipReader(stub)
    read = reader.classify(segs, 5)
    mixed = 0
    for s, (z, x, _) in zip(segs, read):
        logits = reader.logits(s.pieces())  # float32, as both paths see them (ties break alike)
        chosen = reader.pick(s, logits, 5)
        pairs = [k for k in range(len(chosen) - 1) if (chosen[k], chosen[k + 1]) in s.pair_of]
        digits = z.argmax(axis=1)
        at = sorted({k + i for k in pairs for i in (0, 1)})
        assert list(digits[at]) == [7, 1] * len(pairs)
        assert all(d == 3 for k, d in enumerate(digits) if k not in at)
        if pairs:  # the pair's left digit: (cut + 3 x whole) / 4, its 7 now above the 3
            k = pairs[0]
            expect = (stub(x[:1])[0] + 3 * np.log(np.r_[[0.01] * 7, 0.91, [0.01] * 2])) / 4
            np.testing.assert_allclose(z[k], expect, rtol=1e-6)
        mixed += len(pairs)
        one = reader.choose(s, logits, 5)
        np.testing.assert_allclose(one[0], z, rtol=1e-6)
    assert mixed >= 20 and pairs_seen and pairs_seen[0] >= 1
