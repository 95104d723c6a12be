"""The ZIP reader: pre-processing, one batched network call, calibrated accept/review.

A ZIP is accepted only when exactly five digits were found and every digit's calibrated
probability clears the threshold; otherwise it goes to review with the reasons, e.g.
{'reason': 'no_ink'}, {'reason': 'digit_count', 'count': 4},
{'reason': 'low_confidence', 'position': 2, 'confidence': 0.71}.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

from rosenblatt._backend import np
from rosenblatt.utils.threads import limit_blas_threads

from . import thresholds as th
from .model import WEIGHTS_DIR, Classifier, cache_dir, load_classifier
from .preprocess import EXPECTED_DIGITS, Segmentation, preprocess_digit, preprocess_field

DEFAULT_TARGET_ERROR = 0.005


@dataclass
class Reading:
    """What the reader says about one image."""

    text: str  # the digits read, left to right
    confidences: list[float]
    probabilities: list[list[float]]
    decision: str  # 'accept' or 'review'
    reasons: list[dict[str, Any]]
    boxes: list[tuple[int, int, int, int]]
    inputs: Any  # (k, 1, 28, 28) float32: what the network saw
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary (without the input arrays)."""
        return {"reading": self.text, "decision": self.decision, "reasons": self.reasons,
                "confidences": [round(c, 6) for c in self.confidences],
                "probabilities": [[round(p, 6) for p in row] for row in self.probabilities],
                "boxes": [list(b) for b in self.boxes], "timings_ms": self.timings_ms}


def calibration_path(classifier: Classifier) -> Path:
    """Where a model's temperature and threshold live: beside its weights."""
    weights = classifier.path
    if weights is not None and Path(weights).parent == WEIGHTS_DIR:
        return WEIGHTS_DIR / f"{classifier.name}.zip.json"
    if weights is not None:
        return Path(weights).with_name(f"{Path(weights).stem}.zip.json")
    return cache_dir() / f"{classifier.name}.zip.json"


COUNT_PENALTY = 3.0  # nats: a reading of another count than expected must be this much surer


def choose_pieces(choices: list[list[tuple[int, ...]]], log_conf: Any,
                  expected: int | None, way_bonus: list[list[float]] | None = None) -> list[int]:
    """Per blob one of its ways to be read (see Segmentation.choices): the most confident
    reading by the sum of the pieces' log max-probabilities `log_conf` (n_pieces,) and of the
    chosen ways' `way_bonus` (per blob, per way; see `pair_bonus`), less COUNT_PENALTY when
    its count is not the expected one. -> the chosen piece indices."""
    if expected is None:
        return [i for ways in choices for i in ways[0]]
    # dynamic programming over the blobs: the best (score, pieces) for each count so far
    best: dict[int, tuple[float, list[int]]] = {0: (0.0, [])}
    for b, ways in enumerate(choices):
        grown: dict[int, tuple[float, list[int]]] = {}
        for count, (score, pieces) in best.items():
            for w, way in enumerate(ways):
                n, s = count + len(way), score + float(sum(log_conf[i] for i in way))
                if way_bonus is not None:
                    s += way_bonus[b][w]
                if n not in grown or s > grown[n][0]:
                    grown[n] = (s, pieces + list(way))
        best = grown
    count = max(best, key=lambda n: best[n][0] - COUNT_PENALTY * (n != expected))
    return best[count][1]


def pair_bonus(seg: Segmentation, pair_logits: Any, weight: float) -> list[list[float]]:
    """Per blob, per way of `seg.choices`: weight x the log-probability the pair detector
    gives that way's count, where a blob may be one digit or two touching ones: log p(two)
    for a way cutting it in two, log p(one) for the way reading it whole, 0 elsewhere.
    pair_logits: (p,) the detector's logits of "two digits" on `seg.pair_inputs`."""
    out = []
    for ways in seg.choices:
        rows = [seg.pair_of[w] for w in ways if w in seg.pair_of]
        if not rows:
            out.append([0.0] * len(ways))
            continue
        z = float(pair_logits[rows[0]])
        # log sigmoid(z) and log sigmoid(-z), stable for large |z|
        log_two, log_one = -np.logaddexp(0.0, -z), -np.logaddexp(0.0, z)
        out.append([weight * (log_two if len(w) == 2 else log_one if len(w) == 1 else 0.0)
                    for w in ways])
    return out


_Read = tuple[Any, Any, list]  # per field: chosen pieces' (logits (k, 10), inputs, boxes)
# set before forking, inherited by the workers: neither the model nor the images are pickled
_WORKER_STATE: tuple[ZipReader, Sequence[Any]] | None = None


def _run_in_worker(args: tuple[Callable[[ZipReader, list[Any]], list], int, int]) -> list:
    job, start, stop = args
    assert _WORKER_STATE is not None
    reader, images = _WORKER_STATE
    return job(reader, list(images[start:stop]))


def _pieces_job(reader: ZipReader, images: list[Any]) -> list[_Read]:
    """Per field the chosen pieces' (logits, inputs, boxes)."""
    return reader.classify([preprocess_field(img, reader.expected) for img in images],
                           reader.expected)


def _readings_job(reader: ZipReader, images: list[Any]) -> list[Reading]:
    """Per field its Reading."""
    return reader._read(images, partial(preprocess_field, expected=reader.expected),
                        reader.expected, reader.threshold)


class ZipReader:
    """Read ZIP fields (or single digits) with a classifier, a temperature and a threshold."""

    def __init__(self, classifier: Classifier, temperature: float = 1.0, threshold: float = 0.9,
                 digit_threshold: float | None = None, expected: int = EXPECTED_DIGITS,
                 calibration: dict[str, Any] | None = None) -> None:
        self.classifier = classifier
        self.temperature = float(temperature)
        self.threshold = float(threshold)
        self.digit_threshold = float(digit_threshold if digit_threshold is not None else threshold)
        self.expected = expected
        self.calibration = calibration or {}

    @classmethod
    def load(cls, classifier: Classifier | None = None, calibrate_if_missing: bool = True,
             log: Callable[[str], None] | None = None, **calibrate_kwargs: Any) -> ZipReader:
        """The default model with its saved calibration (calibrating it first if needed)."""
        classifier = classifier or load_classifier(log=log)
        record = th.load_calibration(calibration_path(classifier))
        if record is None or record.get("model_version") != classifier.version:
            if not calibrate_if_missing:
                return cls(classifier)
            if log:
                log(f"calibrating {classifier.name} on the calibration half of MNIST test")
            record = calibrate(cls(classifier), **calibrate_kwargs)
            th.save_calibration(calibration_path(classifier), record)
        return cls(classifier, record["temperature"], record["threshold"],
                   record.get("digit_threshold"), calibration=record)

    def probabilities(self, logits: Any) -> Any:
        """Calibrated probabilities softmax(logits / T), (N, 10)."""
        return th.softmax(logits, self.temperature)

    def logits(self, inputs: Any, batch_size: int = 4096,
               net: Callable[[Any], Any] | None = None) -> Any:
        """The network (or `net`) on (N, 1, 28, 28) inputs, in batches; (N, 10) float32."""
        if len(inputs) == 0:
            return np.zeros((0, 10), np.float32)
        net = net or self.classifier
        outs = [np.asarray(net(inputs[i : i + batch_size]))
                for i in range(0, len(inputs), batch_size)]
        return np.concatenate(outs).astype(np.float32)

    def _map(self, job: Callable[[ZipReader, list[Any]], list], images: Sequence[Any],
             workers: int) -> list:
        """job(self, images) in `workers` forked processes when > 1, each on its share of the
        images with its own network and decisions (nothing waits on one process)."""
        global _WORKER_STATE
        if workers <= 1 or len(images) < 64 or "fork" not in mp.get_all_start_methods():
            return job(self, list(images))
        chunk = (len(images) + workers * 4 - 1) // (workers * 4)
        parts = [(job, i, i + chunk) for i in range(0, len(images), chunk)]
        warm = getattr(self.classifier, "warm", None)  # compiled once, here, not per worker
        if warm is not None:
            warm()
        _WORKER_STATE = (self, images)
        try:
            # one BLAS thread per worker: the workers already fill the cores
            with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"),
                                     initializer=limit_blas_threads, initargs=(1,)) as pool:
                return [item for part in pool.map(_run_in_worker, parts) for item in part]
        finally:
            _WORKER_STATE = None  # do not keep the caller's images alive

    def decide(self, probs: Any, no_ink: bool, expected: int | None,
               threshold: float) -> tuple[str, list[dict[str, Any]]]:
        """Accept only the right number of digits, each above the threshold."""
        if no_ink:
            return "review", [{"reason": "no_ink"}]
        reasons: list[dict[str, Any]] = []
        if expected is not None and len(probs) != expected:
            reasons.append({"reason": "digit_count", "count": len(probs)})
        for i, confidence in enumerate(np.asarray(probs).max(axis=1).tolist()):
            if confidence < threshold:
                reasons.append({"reason": "low_confidence", "position": i,
                                "confidence": round(confidence, 6)})
        return ("review" if reasons else "accept"), reasons

    def pick(self, seg: Segmentation, logits: Any, expected: int | None,
             pair_logits: Any = None) -> list[int]:
        """From the logits of all of a field's pieces (`seg.pieces()`), the indices of the
        pieces read: the default cut, or the most confident way (see `choose_pieces`), with
        the pair detector's say (`pair_logits` on `seg.pair_inputs`) where given."""
        if not seg.choices:
            return list(range(len(seg.inputs)))
        # the choice uses the raw network (T = 1): the same whatever the calibration
        log_conf = np.log(th.softmax(logits).max(axis=1))
        bonus = None
        if pair_logits is not None:
            bonus = pair_bonus(seg, pair_logits, float(self.classifier.detector_weight))
        return choose_pieces(seg.choices, log_conf, expected, bonus)

    def _detect(self, segs: list[Segmentation]) -> list[Any]:
        """Per field the pair detector's logits on its pair inputs (one call for all fields),
        or None where there is no choice to make or no detector."""
        detect = self.classifier.detect_pairs
        todo = [i for i, s in enumerate(segs) if s.choices and s.pair_inputs is not None]
        out: list[Any] = [None] * len(segs)
        if detect is None or not todo:
            return out
        logits = detect(np.concatenate([segs[i].pair_inputs for i in todo]))
        start = 0
        for i in todo:
            out[i] = logits[start : start + len(segs[i].pair_inputs)]
            start += len(segs[i].pair_inputs)
        return out

    def choose(self, seg: Segmentation, logits: Any, expected: int | None) -> _Read:
        """From the logits of all of a field's pieces, the reading: the chosen pieces'
        (logits (k, 10) with touching pairs also read whole, inputs (k, 1, 28, 28), boxes)."""
        chosen = self.pick(seg, logits, expected, self._detect([seg])[0])
        pairs = self._pairs_read([seg], [chosen])
        return self._reading(seg, chosen, logits[chosen], pairs[0] if pairs else None)

    def _reading(self, seg: Segmentation, chosen: list[int], z: Any,
                 pairs: tuple[list[int], Any] | None, pieces: Any = None) -> _Read:
        """The chosen pieces' (logits, inputs, boxes); `pairs` (positions k, the pair reader's
        (p, 2, 10) log-probabilities): digits k and k+1 of the reading were read whole too;
        `pieces`: seg.pieces() where the caller has it."""
        if pairs is not None and len(pairs[0]):
            w = float(self.classifier.pair_weight)
            z = np.array(z, np.float32)
            for k, lp in zip(*pairs):
                z[k : k + 2] = (z[k : k + 2] + w * lp) / (1.0 + w)
        boxes = seg.boxes + seg.candidate_boxes
        pieces = seg.pieces() if pieces is None else pieces
        return z, pieces[chosen], [boxes[i] for i in chosen]

    def _pairs_read(self, segs: list[Segmentation],
                    chosen: list[list[int]]) -> list[tuple[list[int], Any]] | None:
        """Per field the positions k where the chosen pieces k, k+1 are one blob cut in two,
        with the classifier's `read_pairs` of that blob read whole (one call for all fields);
        None when the classifier has no pair reader."""
        read_pairs = self.classifier.read_pairs
        if read_pairs is None:
            return None
        where, rows = [], []
        for s, c in zip(segs, chosen):
            ks = [k for k in range(len(c) - 1) if (c[k], c[k + 1]) in s.pair_of]
            where.append(ks)
            rows += [s.pair_inputs[s.pair_of[c[k], c[k + 1]]] for k in ks]
        read = read_pairs(np.stack(rows)) if rows else np.zeros((0, 2, 10), np.float32)
        out, start = [], 0
        for ks in where:
            out.append((ks, read[start : start + len(ks)]))
            start += len(ks)
        return out

    def classify(self, segs: list[Segmentation], expected: int | None) -> list[_Read]:
        """One network call over every piece (candidates too) of every field; per field the
        chosen reading (see `choose`). A classifier with two `passes` (SecondOpinion) chooses
        the pieces by its first pass, then gives only the chosen ones its second."""
        passes = self.classifier.passes
        parts = [s.pieces() for s in segs]
        logits = self.logits(np.concatenate(parts) if parts
                             else np.zeros((0, 1, 28, 28), np.float32),
                             net=passes[0] if passes else None)
        chosen, zs, start = [], [], 0
        for s, x, d in zip(segs, parts, self._detect(segs)):
            z = logits[start : start + len(x)]
            chosen.append(self.pick(s, z, expected, d))
            zs.append(z[chosen[-1]])
            start += len(x)
        if passes and zs:
            sizes = np.cumsum([len(z) for z in zs])[:-1]
            kept = np.concatenate([p[c] for p, c in zip(parts, chosen)])
            zs = np.split(passes[1](kept, np.concatenate(zs)), sizes)
        pairs = self._pairs_read(segs, chosen) or [None] * len(segs)
        return [self._reading(s, c, z, pr, x)
                for s, c, z, pr, x in zip(segs, chosen, zs, pairs, parts)]

    def _read(self, images: Sequence[Any], segment: Callable[[Any], Segmentation],
              expected: int | None, threshold: float) -> list[Reading]:
        """Segment each image, one network call, then decide; with per-image timings."""
        t0 = time.perf_counter()
        segs = [segment(img) for img in images]
        t_pre = time.perf_counter() - t0
        read = self.classify(segs, expected)
        t_net = time.perf_counter() - t0 - t_pre
        n = max(len(segs), 1)
        timings = {"preprocess": round(1000 * t_pre / n, 3), "network": round(1000 * t_net / n, 3)}
        return [self.reading(s, r, expected, threshold, dict(timings))
                for s, r in zip(segs, read)]

    def reading(self, seg: Segmentation, read: _Read, expected: int | None, threshold: float,
                timings_ms: dict[str, float] | None = None) -> Reading:
        """One field's Reading from its `classify` output (logits (k, 10), inputs (k, 1, 28,
        28), boxes): calibrated probabilities, accept/review, boxes in the image's pixels. The
        batch reader and the service both read through here."""
        z, inputs, boxes = read
        p = self.probabilities(z)
        decision, reasons = self.decide(p, seg.no_ink, expected, threshold)
        inv = 1.0 / seg.scale
        return Reading("".join(map(str, p.argmax(axis=1).tolist())), p.max(axis=1).tolist(),
                       p.tolist(), decision, reasons,
                       [tuple(int(round(v * inv)) for v in b) for b in boxes], inputs,
                       timings_ms or {})

    def read_fields(self, images: Sequence[Any], workers: int = 1) -> list[Reading]:
        """Read ZIP-field images (arrays, PIL images or encoded bytes): one network call per
        process, `workers` processes."""
        return self._map(_readings_job, images, workers)

    def read_field(self, image: Any) -> Reading:
        """Read one ZIP field."""
        return self.read_fields([image])[0]

    def read_digits(self, images: Sequence[Any]) -> list[Reading]:
        """Read single-digit images (all ink of an image is one digit)."""
        return self._read(images, preprocess_digit, 1, self.digit_threshold)


def field_logits(reader: ZipReader, fields: list[Any],
                 workers: int = 1) -> tuple[Any, Any, Any, list[int]]:
    """Segment synthetic fields and run the network: logits and labels of the digits of
    fields read as exactly the expected count, each digit's field index, and the counts."""
    read = reader._map(_pieces_job, [f.image for f in fields], workers)
    counts = [len(z) for z, _, _ in read]
    good = [i for i, c in enumerate(counts) if c == reader.expected]
    if not good:
        return np.zeros((0, 10)), np.zeros(0, np.int64), np.zeros(0, np.int64), counts
    labels = np.array([int(c) for i in good for c in fields[i].zip], np.int64)
    owner = np.repeat(np.array(good), reader.expected)
    return np.concatenate([read[i][0] for i in good]), labels, owner, counts


def zip_confidence(probs: Any, labels: Any, owner: Any, counts: list[int],
                   expected: int = EXPECTED_DIGITS) -> tuple[Any, Any]:
    """Per field: the lowest digit confidence (-inf if the count is wrong) and whether the
    whole ZIP was read right."""
    n = len(counts)
    conf = np.full(n, -np.inf)
    correct = np.zeros(n, bool)
    if len(owner):
        fields = owner.reshape(-1, expected)[:, 0]
        top = probs.max(axis=1).reshape(-1, expected)
        right = (probs.argmax(axis=1) == labels).reshape(-1, expected)
        conf[fields] = top.min(axis=1)
        correct[fields] = right.all(axis=1)
    return conf, correct


def calibrate(reader: ZipReader, n_fields: int = 3000, target_error: float = DEFAULT_TARGET_ERROR,
              seed: int = 1, plots_dir: Path | None = None, workers: int = 1) -> dict[str, Any]:
    """Fit T and choose thresholds on synthetic fields of the CALIBRATION half of MNIST test.

    The fields are split in two: the first half fits the temperature, the second half draws
    the automation curve from which the threshold is chosen (so T is not fitted on the same
    digits that set the threshold).
    """
    from .synth import make_fields

    fields = make_fields(n_fields, part="calibration", seed=seed)
    logits, labels, owner, counts = field_logits(reader, fields, workers)
    half = n_fields // 2
    fit = owner < half
    temperature = th.fit_temperature(logits[fit], labels[fit])
    probs_t1 = th.softmax(logits)
    probs = th.softmax(logits, temperature)
    held = ~fit
    conf, correct = zip_confidence(probs[held], labels[held], owner[held] - half, counts[half:])
    chosen = th.choose_threshold(conf, correct, target_error)
    digit_conf = probs[held].max(axis=1)
    digit_ok = probs[held].argmax(axis=1) == labels[held]
    digit_chosen = th.choose_threshold(digit_conf, digit_ok, target_error)
    record = {
        "model": reader.classifier.name, "model_version": reader.classifier.version,
        "temperature": temperature, "threshold": chosen["threshold"],
        "digit_threshold": digit_chosen["threshold"], "target_error": target_error,
        "margin_z": chosen["z"],  # the thresholds keep a Wilson upper bound under the target
        "validation": {
            "data": "synthetic ZIP fields from MNIST test digits 0-4999 (calibration half)",
            "fields": n_fields, "seed": seed,
            "nll_before": th.nll(logits[held], labels[held]),
            "nll_after": th.nll(logits[held], labels[held], temperature),
            "digit_accuracy": float(digit_ok.mean()) if len(digit_ok) else 0.0,
            "zip_automation": chosen["automation"], "zip_error": chosen["error"],
            "digit_automation": digit_chosen["automation"], "digit_error": digit_chosen["error"],
        },
    }
    if plots_dir is not None:
        plots_dir = Path(plots_dir)
        plots_dir.mkdir(parents=True, exist_ok=True)
        th.plot_reliability(th.reliability(probs_t1[held].max(1), digit_ok),
                            th.reliability(digit_conf, digit_ok), plots_dir / "reliability.png")
        th.plot_curve(th.automation_curve(conf, correct), chosen, plots_dir / "automation.png")
    return record


def evaluate(reader: ZipReader, n: int = 2000, seed: int = 12345, workers: int = 1,
             repeats: int = 1) -> dict[str, Any]:
    """Measure on synthetic fields of the EVALUATION half of MNIST test (digits 5000-9999)."""
    from .synth import make_fields

    fields = make_fields(n, part="evaluation", seed=seed)
    images = [f.image for f in fields]
    import resource

    def cpu() -> float:  # this process and finished worker processes, user + system
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    best = best_cpu = float("inf")
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), cpu()
        readings = reader.read_fields(images, workers=workers)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, cpu() - c0)
    truth = [f.zip for f in fields]
    digit_right = digit_total = 0
    for r, z in zip(readings, truth):
        if len(r.text) == len(z):
            digit_right += sum(a == b for a, b in zip(r.text, z))
        digit_total += len(z)
    accepted = [r.decision == "accept" for r in readings]
    correct = [r.text == z for r, z in zip(readings, truth)]
    n_acc = sum(accepted)
    errors = sum(a and not c for a, c in zip(accepted, correct))
    reasons: dict[str, int] = {}
    for r in readings:
        for why in {x["reason"] for x in r.reasons}:
            reasons[why] = reasons.get(why, 0) + 1
    return {
        "fields": n, "seed": seed, "data": "MNIST test digits 5000-9999 (evaluation half)",
        "model": reader.classifier.name, "temperature": reader.temperature,
        "threshold": reader.threshold,
        "digit_accuracy": digit_right / digit_total,
        "segmentation_accuracy": float(np.mean([len(r.text) == 5 for r in readings])),
        "zip_accuracy": float(np.mean(correct)),
        "automation_rate": n_acc / n,
        "error_rate_among_accepted": errors / max(n_acc, 1),
        "review_reasons": reasons,
        "seconds": best, "fields_per_second": n / best, "workers": workers,
        # CPU seconds: what the fields cost whatever else the machine is doing
        "cpu_seconds": best_cpu, "fields_per_cpu_second": n / max(best_cpu, 1e-9),
    }


def small_reader(folder: Path, fields: int = 600) -> ZipReader:
    """A reader for tests and demos: the committed model when there is one, else a small MLP
    trained in a few seconds; calibrated on `fields` synthetic fields; cached in `folder`."""
    from .model import (
        committed_classifier,
        committed_field_classifier,
        load_saved,
        train_mlp,
        training_digits,
    )

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    classifier = committed_field_classifier() or committed_classifier()
    if classifier is None:
        path = folder / "small-mlp.safetensors"
        if path.exists():
            classifier = load_saved(path)
        else:
            x, y = training_digits(synthetic_fields=400)
            classifier = train_mlp(x, y, epochs=5, hidden=(256, 96))
            classifier.name = classifier.card["name"] = "zip-mlp-small"
            classifier.save(path)
    cal = folder / f"{classifier.name}-{classifier.version}.zip.json"
    record = th.load_calibration(cal)
    if record is None:
        record = calibrate(ZipReader(classifier), n_fields=fields)
        th.save_calibration(cal, record)
    return ZipReader(classifier, record["temperature"], record["threshold"],
                     record.get("digit_threshold"), calibration=record)
