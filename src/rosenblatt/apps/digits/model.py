"""The digit classifier behind the reader: a `Classifier` reads (N, 1, 28, 28) float32 digits
into logits (N, 10) and says which pair readers and cascade passes it has.

`load_classifier()` takes the committed cascade when its weights are there, else the
committed MNIST LeNet-5, else a fallback MLP (`rosenblatt.models.MLP`, 784-384-128-10)
trained once on the MNIST training file and cached. Training digits go through the same
pre-processing as the reader's: the MNIST images re-normalized, plus digits cut out of
synthetic ZIP fields drawn from MNIST TRAINING digits (the test digits are kept for
calibration and evaluation). Every model trains through the library's `Trainer`
(`fit_digits`) and is saved with `rosenblatt.save` and a JSON card beside it.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt._backend import array_module, np
from rosenblatt.models.lenet import LeNet5
from rosenblatt.nn import functional as F
from rosenblatt.utils.data import TensorDataset

WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "models" / "weights"

Passes = tuple[Callable[[Any], Any], Callable[[Any, Any], Any]]


class Classifier(Protocol):
    """What the reader needs from a model; a capability it lacks is None."""

    name: str
    version: str
    card: dict[str, Any]
    path: Path | None  # its weights, None when not saved: the calibration is kept beside them
    pair_weight: float  # a pair's digits: (cut reading + weight * whole reading) / (1 + weight)
    detector_weight: float  # how much the pair detector's say counts when choosing a cut

    def __call__(self, x: Any) -> Any:
        """(N, 1, 28, 28) float32 -> logits (N, 10)."""

    @property
    def passes(self) -> Passes | None:
        """A cascade's (first_pass: x -> z, second_pass: (x, z) -> z): the reader chooses the
        cut by the first and re-reads only the pieces it keeps; None: one call reads."""

    @property
    def read_pairs(self) -> Callable[[Any], Any] | None:
        """(P, 1, 28, 48) touching pairs -> (P, 2, 10) log-probabilities, read whole."""

    @property
    def detect_pairs(self) -> Callable[[Any], Any] | None:
        """(P, 1, 28, 48) wide blobs -> (P,) logits of "two touching digits"."""


@dataclass
class ArrayClassifier:
    """A Classifier from functions on arrays: `net` (N, 1, 28, 28) -> (N, 10) logits and the
    optional capabilities (see `Classifier`)."""

    net: Callable[[Any], Any]
    name: str = "arrays"
    version: str = "1"
    card: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    pair_weight: float = 1.0
    detector_weight: float = 1.0
    passes: Passes | None = None
    read_pairs: Callable[[Any], Any] | None = None
    detect_pairs: Callable[[Any], Any] | None = None

    def __call__(self, x: Any) -> Any:
        """(N, 1, 28, 28) float32 -> logits (N, 10)."""
        return self.net(x)


def cache_dir() -> Path:
    """Where trained fallback models and their calibration live ($ROSENBLATT_CACHE)."""
    root = os.environ.get("ROSENBLATT_CACHE") or Path.home() / ".cache" / "rosenblatt"
    path = Path(root) / "zip"
    path.mkdir(parents=True, exist_ok=True)
    return path


def training_digits(synthetic_fields: int = 2000, seed: int = 0) -> tuple[Any, Any]:
    """Inputs (N, 1, 28, 28) and labels from the MNIST TRAINING file, pre-processed as read."""
    from .preprocess import normalize_digit, preprocess_field
    from .synth import FieldSynth, load_mnist

    images, labels = load_mnist("train")
    xs = [normalize_digit(img.astype(np.float32) / 255.0) for img in images]
    ys = list(labels)
    synth = FieldSynth(images, labels, seed=seed + 1000)
    for _ in range(synthetic_fields):
        f = synth.sample()
        seg = preprocess_field(f.image)
        if len(seg.boxes) == 5:  # only where the cut is right are the labels known
            xs.extend(seg.inputs[:, 0])
            ys.extend(int(c) for c in f.zip)
    return np.stack(xs)[:, None].astype(np.float32), np.asarray(ys, np.int64)


def train_mlp(x: Any, y: Any, epochs: int = 12, hidden: tuple[int, ...] = (384, 128),
              batch_size: int = 128, lr: float = 1e-3, seed: int = 0,
              log: Callable[[str], None] | None = None) -> ModuleClassifier:
    """The fallback classifier: `models.MLP(784, hidden, 10)` trained by `fit_digits` on
    x (N, 1, 28, 28), y (N,)."""
    import rosenblatt as rb
    from rosenblatt.models import MLP

    rb.manual_seed(seed)
    model = fit_digits(MLP(784, hidden, 10), x, y, epochs=epochs, lr=lr,
                       batch_size=batch_size, seed=seed, log=log)
    sizes = "-".join(map(str, (784, *hidden, 10)))
    card = {"name": "zip-mlp", "version": "1", "module": "MLP", "config": model.config,
            "architecture": f"MLP {sizes}", "epochs": epochs,
            "trained_on": "MNIST train file (first 10,000) + synthetic ZIP fields of those "
                          "digits"}
    return ModuleClassifier(model, "zip-mlp", card, None)


class ModuleClassifier:
    """A Classifier from rosenblatt modules: the digit network (e.g. the committed cascade)
    with, optionally, a PairNet and a pair detector; each read through `served` (its
    networks compiled by `rosenblatt.compile`) in eval mode, eagerly in training mode."""

    def __init__(self, module: Any, name: str, card: dict[str, Any], path: Path | None,
                 pairs: PairNet | None = None, pair_weight: float = 1.0,
                 detector: PairDetector | None = None, detector_weight: float = 1.0) -> None:
        self.module = module.eval()
        self.name, self.card, self.path = name, card, path
        self.version = str(card.get("version", "1"))
        self.served = served(module)
        self.pairs = pairs.eval() if pairs is not None else None
        self.pairs_served = served(pairs) if pairs is not None else None
        self.pair_weight = pair_weight
        self.detector = detector.eval() if detector is not None else None
        self.detector_served = served(detector) if detector is not None else None
        self.detector_weight = detector_weight

    @property
    def read_pairs(self) -> Callable[[Any], Any] | None:
        """The PairNet's reading of touching pairs (see `_read_pairs`), or None without one:
        the reader then keeps the cut reading alone."""
        return self._read_pairs if self.pairs is not None else None

    def _read_pairs(self, x: Any) -> Any:
        """(P, 1, 28, 48) touching pairs -> (P, 2, 10) log-probabilities by the PairNet."""
        net = self.pairs_served
        return on_arrays(lambda t: F.log_softmax(net(t), dim=-1), x)

    @property
    def detect_pairs(self) -> Callable[[Any], Any] | None:
        """The pair detector: (P, 1, 28, 48) blobs -> (P,) logits of "two touching digits",
        or None without one (the reader then chooses the cut by the pieces alone)."""
        if self.detector_served is None:
            return None
        return partial(on_arrays, self.detector_served)

    @property
    def passes(self) -> Passes | None:
        """(first_pass, second_pass) of a SecondOpinion in eval mode, else None."""
        if isinstance(self.module, SecondOpinion) and not self.module.training:
            return (partial(on_arrays, self.served.first_pass),
                    partial(on_arrays, self.served.second_pass))
        return None

    def __call__(self, x: Any) -> Any:
        """(N, 1, 28, 28) float32 -> logits (N, 10)."""
        return on_arrays(self.module if self.module.training else self.served, x)

    def warm(self) -> None:
        """Capture the served networks' plans now, on a few blank rows (the reader calls it
        before forking workers, which would each capture them again)."""
        if self.module.training:
            return
        digits = np.zeros((CAPTURE_ROWS, 1, 28, 28), np.float32)
        for net in self.served.modules():  # the digit networks, members included
            if isinstance(net, Compiled):
                on_arrays(net, digits)
        if isinstance(self.served, SecondOpinion):  # (blank digits are not re-read)
            on_arrays(lambda x: self.served.second.views(x, self.served.shifts), digits)
        for net in (self.pairs_served, self.detector_served):
            if net is not None:
                on_arrays(net, np.zeros((CAPTURE_ROWS, 1, 28, 48), np.float32))

    def save(self, path: Path) -> None:
        """The network's weights with `rosenblatt.save` and its card as JSON beside them
        (`load_saved` reads both); the PairNet and detector are not written."""
        import rosenblatt as rb

        path = Path(path)
        rb.save(self.module.state_dict(), path)
        path.with_suffix(".card.json").write_text(json.dumps(self.card, indent=1))
        self.path = path


def load_saved(path: Path) -> ModuleClassifier:
    """What `ModuleClassifier.save` wrote, named by its card (with the committed PairNet and
    detector when its card says it had them)."""
    path = Path(path)
    module, card = _saved_module(path, path.with_suffix(".card.json"))
    readers = committed_pair_readers(card) if card.get("pairs") else {}
    return ModuleClassifier(module, card.get("name", path.stem), card, path, **readers)


def committed_classifier() -> ModuleClassifier | None:
    """The committed MNIST LeNet-5 with its weights, or None when not there."""
    from rosenblatt.models import lenet5

    try:
        module = lenet5(pretrained=True)
    except (FileNotFoundError, TypeError, ValueError, RuntimeError):
        return None
    card: dict[str, Any] = {}
    path = None
    for candidate in sorted(WEIGHTS_DIR.glob("lenet5*.json")):
        if not candidate.name.endswith(".zip.json"):
            card = json.loads(candidate.read_text())
            path = candidate
            break
    return ModuleClassifier(module, "lenet5", card, path)


FIELD_WEIGHTS = WEIGHTS_DIR / "lenet5_zip_pair.safetensors"
WIDE_WEIGHTS = WEIGHTS_DIR / "wide_zip_pair.safetensors"  # SecondOpinion's wider pair
CASCADE_CARD = WEIGHTS_DIR / "zip_cascade.json"
PAIR_WEIGHTS = WEIGHTS_DIR / "zip_pairnet.safetensors"  # PairNet: touching pairs read whole
DETECTOR_WEIGHTS = WEIGHTS_DIR / "zip_pairdetector.safetensors"  # one wide digit or two?


def committed_field_classifier() -> ModuleClassifier | None:
    """The committed models trained on digits cut from synthetic fields of MNIST TRAINING
    digits: the SecondOpinion of lenet5_zip_pair and wide_zip_pair (card zip_cascade.json),
    or the LeNet-5 pair alone when the wide pair is not there; None without either."""
    if not FIELD_WEIGHTS.exists():
        return None
    if not WIDE_WEIGHTS.exists():
        module, card = _saved_module(FIELD_WEIGHTS, FIELD_WEIGHTS.with_suffix(".json"))
        return ModuleClassifier(module, FIELD_WEIGHTS.stem, card, FIELD_WEIGHTS)
    import rosenblatt as rb

    state = {f"{stage}.{k}": v for stage, path in (("first", FIELD_WEIGHTS),
                                                   ("second", WIDE_WEIGHTS))
             for k, v in rb.load(path).items()}
    card = json.loads(CASCADE_CARD.read_text()) if CASCADE_CARD.exists() else {}
    return ModuleClassifier(_second_opinion(state), CASCADE_CARD.stem, card, WIDE_WEIGHTS,
                            **committed_pair_readers(card))


def committed_pair_readers(card: dict[str, Any]) -> dict[str, Any]:
    """ModuleClassifier's keyword arguments for the committed PairNet and pair detector, with
    their weights from the card (a model without one of them gets None)."""
    return {"pairs": committed_pair_net(), "pair_weight": float(card.get("pair_weight", 1.0)),
            "detector": committed_pair_detector(),
            "detector_weight": float(card.get("detector_weight", 1.0))}


def committed_pair_net() -> PairNet | None:
    """The committed PairNet (zip_pairnet.safetensors) loaded, or None when not there."""
    return _committed_net(PAIR_WEIGHTS, PairNet)


def committed_pair_detector() -> PairDetector | None:
    """The committed PairDetector (zip_pairdetector.safetensors), or None when not there."""
    return _committed_net(DETECTOR_WEIGHTS, PairDetector)


def _committed_net(path: Path, kind: type) -> Any:
    if not path.exists():
        return None
    import rosenblatt as rb

    net = kind()
    net.load_state_dict(rb.load(path))
    return net.eval()


def _pair_widths(state: dict[str, Any], prefix: str = "") -> dict[str, tuple[int, int]]:
    """The member widths of the TwoViewLeNet whose keys start with `prefix`."""
    start = prefix + "plain."
    return member_widths({k.removeprefix(start): v for k, v in state.items()
                          if k.startswith(start)})


def _second_opinion(state: dict[str, Any]) -> SecondOpinion:
    """A SecondOpinion of the widths its state dict has, loaded."""
    module = SecondOpinion(_pair_widths(state, "first."), _pair_widths(state, "second."))
    module.load_state_dict(state)
    return module


def _saved_module(weights: Path, card_path: Path) -> tuple[Any, dict[str, Any]]:
    """(the module with its weights loaded, its card or {}): a TwoViewLeNet, SecondOpinion or
    MLP when the card's "module" says so, else a LeNet-5; of the widths the weights have (an
    MLP: of its card's "config")."""
    import rosenblatt as rb
    from rosenblatt.models import MLP, lenet5

    card = json.loads(card_path.read_text()) if card_path.exists() else {}
    state = rb.load(weights)
    if card.get("module") == "SecondOpinion":
        return _second_opinion(state), card
    if card.get("module") == "TwoViewLeNet":  # the members' widths come from the weights
        module = TwoViewLeNet(**_pair_widths(state))
    elif card.get("module") == "MLP":
        module = MLP(**card["config"])
    else:
        module = lenet5(**member_widths(state))
    module.load_state_dict(state)
    return module, card


def member_widths(state: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """A LeNet5 state dict's widths: {'channels': (c1, c2), 'hidden': (h1, h2)}."""
    return {"channels": (int(state["features.0.weight"].shape[0]),
                         int(state["features.3.weight"].shape[0])),
            "hidden": (int(state["classifier.1.weight"].shape[0]),
                       int(state["classifier.3.weight"].shape[0]))}


def load_member(path: str | Path) -> Any:
    """A LeNet5 of whatever widths its saved weights have, loaded, in eval mode."""
    import rosenblatt as rb
    from rosenblatt.models import lenet5

    state = rb.load(path)
    model = lenet5(**member_widths(state))
    model.load_state_dict(state)
    return model.eval()


def replay_digits(n: int = 5000, seed: int = 0) -> tuple[Any, Any]:
    """n MNIST training digits, pre-processed as read: mixed into fine-tuning against
    forgetting."""
    from .preprocess import normalize_digit
    from .synth import load_mnist

    images, labels = load_mnist("train")
    idx = np.random.default_rng(seed).choice(len(images), size=min(n, len(images)),
                                             replace=False)
    x = np.stack([normalize_digit(images[i].astype(np.float32) / 255.0) for i in idx])
    return x[:, None], labels[idx]


def fine_tune(classifier: ModuleClassifier, x: Any, y: Any, epochs: int = 3, lr: float = 3e-4,
              replay: int = 5000, log: Callable[[str], None] | None = None) -> ModuleClassifier:
    """Fine-tune on reviewed digits x (N, 28, 28) or (N, 1, 28, 28), y (N,); returns a new
    classifier with the version bumped (its calibration must then be redone), saved as
    zip-finetuned.safetensors in the cache folder."""
    x = np.asarray(x, np.float32).reshape(-1, 1, 28, 28)
    y = np.asarray(y, np.int64)
    if len(y) == 0:
        raise ValueError("fine_tune: no labelled digits to train on")
    rx, ry = replay_digits(replay)
    # the reviewed digits are few and precious: repeat them so they weigh in each epoch
    reps = max(1, len(ry) // (4 * len(y)))
    xs = np.concatenate([rx, *([x] * reps)])
    ys = np.concatenate([ry, *([y] * reps)])
    version = str(int(classifier.version) + 1) if str(classifier.version).isdigit() else "2"
    module = copy.deepcopy(classifier.module)  # leave the serving model as it is
    fit_digits(module, xs, ys, epochs=epochs, lr=lr, batch_size=128, log=log)
    card = dict(classifier.card, name=classifier.name, version=version,
                fine_tuned_on=f"{len(y)} reviewed digits", base=classifier.name,
                module=type(module).__name__,
                pairs=classifier.pairs is not None)  # the committed PairNet, detector stay
    tuned = ModuleClassifier(module, classifier.name, card, None, classifier.pairs,
                             classifier.pair_weight, classifier.detector,
                             classifier.detector_weight)
    tuned.save(cache_dir() / "zip-finetuned.safetensors")
    return tuned


def _refuse_npz(path: Path) -> None:
    """Raise a clear error where the cache holds `path` as .npz, the NumPy MLP's format
    before the app trained rosenblatt modules (2026-12): it is no longer read."""
    old = path.with_suffix(".npz")
    if old.exists():
        raise ValueError(f"{old}: a model in the old NumPy format, which is no longer read "
                         f"(safetensors only); delete it (a fine-tuned model: run `rosenblatt "
                         f"zip retrain` again; the fallback MLP is retrained on first use)")


def finetuned_classifier() -> ModuleClassifier | None:
    """The model `rosenblatt zip retrain` last wrote, if any."""
    path = cache_dir() / "zip-finetuned.safetensors"
    _refuse_npz(path)
    return load_saved(path) if path.exists() else None


def field_cnn() -> ModuleClassifier | None:
    """The LeNet-5 that `rosenblatt zip train-cnn` trained on digits cut from fields, if any."""
    path = cache_dir() / "zip-lenet5.safetensors"
    return load_saved(path) if path.exists() else None


def load_classifier(train_if_missing: bool = True, log: Callable[[str], None] | None = None,
                    prefer_committed: bool = True, use_finetuned: bool = True) -> ModuleClassifier:
    """The model the reader uses, first found of: what `zip retrain` fine-tuned on reviewed
    digits; what `zip train-cnn` trained on digits cut from fields (both in the cache
    folder, made on purpose by the user); the committed field-digit cascade; the committed
    MNIST LeNet-5; the fallback MLP (cached, trained on first use)."""
    if use_finetuned:
        for model in (finetuned_classifier(), field_cnn()):
            if model is not None:
                return model
    if prefer_committed:
        for model in (committed_field_classifier(), committed_classifier()):
            if model is not None:
                return model
    path = cache_dir() / "zip-mlp.safetensors"
    _refuse_npz(path)
    if path.exists():
        return load_saved(path)
    if not train_if_missing:
        raise FileNotFoundError(f"no committed digit model and no trained fallback at {path}")
    if log:
        log(f"no committed digit model: training the fallback MLP into {path}")
    x, y = training_digits()
    model = train_mlp(x, y, log=log)
    model.save(path)
    return model


class TwoViewLeNet(nn.Module):
    """Two LeNet-5s, one reading the digit as cut and one reading it deskewed
    (`preprocess.deskew`); (N, 1, 28, 28) -> (N, 10) mean log-probabilities.

    An ensemble of two differently-seen members: their confident mistakes rarely coincide,
    so averaging their log-probabilities makes a confident reading much more often right.
    The output works as logits: softmax(output / T) is the calibrated ensemble.
    """

    def __init__(self, **member: Any) -> None:
        super().__init__()
        from rosenblatt.models import lenet5

        self.plain = lenet5(**member)  # member: LeNet5's widths (channels=, hidden=)
        self.deskewed = lenet5(**member)

    def forward(self, x: Any) -> Any:
        """(N, 1, 28, 28) -> (N, 10)."""
        import rosenblatt as rb

        from .preprocess import deskew

        turned = rb.from_numpy(deskew(x.detach().numpy()))
        log_p = F.log_softmax(self.plain(x), dim=1) + F.log_softmax(self.deskewed(turned), dim=1)
        return log_p / 2

    def views(self, x: Any, shifts: Sequence[tuple[int, int]]) -> Any:
        """Each digit read moved by each of `shifts` (`preprocess.shifted_views`): the plain
        member reads the moved digit, the deskewed member the moved deskewed digit;
        (N, 1, 28, 28) -> (len(shifts), N, 10) mean log-probabilities."""
        from .preprocess import deskew

        digits = x.detach().numpy()
        plain = read_moved(self.plain, digits, shifts)
        turned = read_moved(self.deskewed, deskew(digits), shifts)
        return (F.log_softmax(plain, dim=-1) + F.log_softmax(turned, dim=-1)) / 2


def read_moved(member: Any, digits: Any, shifts: Sequence[tuple[int, int]]) -> Any:
    """`member`'s logits of each digit moved by each of `shifts` (`preprocess.shifted_views`):
    (N, 1, 28, 28) array -> (len(shifts), N, classes) tensor; a `Compiled` LeNet5 shares
    the work of sideways moves (`Compiled.moved`)."""
    from .preprocess import shifted_views

    if isinstance(member, Compiled) and isinstance(member.compiled._orig_mod, LeNet5):
        return member.moved(digits, shifts)
    views = member(rb.from_numpy(shifted_views(digits, shifts)))
    return views.reshape(len(shifts), len(digits), -1)


REREAD_BELOW = 0.998  # the fast pair's max probability (T = 1) below which a digit is re-read
# the wide pair reads a re-read digit as cut and moved one pixel left and right (dy, dx): the
# mean of the views is less sure of a digit whose reading hangs on where its strokes fall
# (cut columns and stroke ends move sideways; the centre of mass fixes the height well)
REREAD_SHIFTS = ((0, 0), (0, 1), (0, -1))


class SecondOpinion(nn.Module):
    """A fast TwoViewLeNet reads every digit; a wider one re-reads the digits the fast one
    is unsure of (max softmax probability below `below`). (N, 1, 28, 28) -> (N, 10).

    The wider pair reads each such digit in `shifts` positions (`TwoViewLeNet.views`: its
    deskewed member reads the deskewed digit moved) and its output is the mean of theirs.
    A re-read digit's output is the mean of the two pairs' mean log-probabilities with the
    wider pair counted twice; the others keep the fast pair's. Most digits are clear, so the
    wider network's cost is paid on a fifth of them (the USPS readers' cascade of cheap and
    costly classifiers).
    """

    def __init__(self, first: dict[str, Any], second: dict[str, Any],
                 below: float = REREAD_BELOW,
                 shifts: Sequence[tuple[int, int]] = REREAD_SHIFTS) -> None:
        super().__init__()
        self.first = TwoViewLeNet(**first)  # member widths (channels=, hidden=) of each pair
        self.second = TwoViewLeNet(**second)
        self.below = below
        self.shifts = tuple(shifts)

    def forward(self, x: Any) -> Any:
        """(N, 1, 28, 28) -> (N, 10)."""
        return self.second_pass(x, self.first_pass(x))

    def first_pass(self, x: Any) -> Any:
        """(N, 1, 28, 28) -> the fast pair's (N, 10) (the reader chooses the cut by it)."""
        return self.first(x)

    def second_pass(self, x: Any, z: Any) -> Any:
        """Re-read the rows of x (N, 1, 28, 28) whose first-pass output z (N, 10) is unsure;
        -> (N, 10), z itself where none is."""
        unsure = np.flatnonzero(F.softmax(z.detach(), dim=1).numpy().max(axis=1) < self.below)
        if len(unsure) == 0:
            return z
        rows = rb.from_numpy(unsure)
        wide = self.second.views(x.index_select(0, rows), self.shifts)
        mixed = (z.index_select(0, rows) + 2 * wide.mean(dim=0)) / 3
        return z.index_copy(0, rows, mixed)


class PairNet(nn.Module):
    """Reads two touching digits whole, without cutting them apart: (N, 1, 28, 48) blobs
    (`preprocess.normalize_pair`) -> (N, 2, 10) logits of the left and the right digit.

    Cutting a touching pair at a column loses a piece of one digit and keeps a piece of the
    other; a network that sees the pair whole learns where one ends (the USPS readers also
    read some touching digit pairs as such). Two convolutions with max pooling, a hidden layer.
    """

    OUTPUTS = 20  # two digits' logits

    def __init__(self, channels: tuple[int, int] = (12, 32), hidden: int = 200,
                 dropout: float = 0.2) -> None:
        super().__init__()
        c1, c2 = channels
        self.features = nn.Sequential(nn.Conv2d(1, c1, 5), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(c1, c2, 5), nn.ReLU(), nn.MaxPool2d(2))
        # 28x48 -> conv 24x44 -> pool 12x22 -> conv 8x18 -> pool 4x9
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(c2 * 4 * 9, hidden), nn.ReLU(),
                                        nn.Dropout(dropout), nn.Linear(hidden, self.OUTPUTS))

    def forward(self, x: Any) -> Any:
        """(N, 1, 28, 48) -> (N, 2, 10)."""
        return self.classifier(self.features(x)).reshape(-1, 2, 10)


class PairDetector(PairNet):
    """Is a wide blob two touching digits or one wide digit? (N, 1, 28, 48) blobs
    (`preprocess.normalize_pair`) -> (N,) logits of "two digits".

    The reader's choice between reading a blob whole and cutting it in two otherwise rests
    on how sure the digit network is of the pieces, and a wide 0 cut in two reads as a
    confident 1 and 7 as often as a touching 19 reads as one sure 8. A PairNet's shape,
    narrower, with one output.
    """

    OUTPUTS = 1

    def __init__(self, channels: tuple[int, int] = (8, 16), hidden: int = 64,
                 dropout: float = 0.1) -> None:
        super().__init__(channels, hidden, dropout)

    def forward(self, x: Any) -> Any:
        """(N, 1, 28, 48) -> (N,)."""
        return self.classifier(self.features(x)).reshape(-1)


CHUNK = 64  # digits per compiled call: the activations stay in cache
CAPTURE_ROWS = 7  # a first call captures its plan on this many rows: a capture runs the
# network eagerly several times (`compile`'s probe), cheaply on a few rows; 7: no setting of
# these networks (sizes, the 3 moves) equals it, so the plan follows every batch size


class Compiled(nn.Module):
    """A network read through `rosenblatt.compile` (one plan for every batch size), `chunk`
    rows at a time; an empty batch is read eagerly. (N, ...) -> the network's (N, ...)."""

    def __init__(self, module: Any, chunk: int = CHUNK) -> None:
        super().__init__()
        self.compiled = rb.compile(module, dynamic=True)
        self.chunk = chunk
        self.sideways: dict[tuple[int, ...], Compiled] = {}  # moves -> a Sideways of a LeNet5

    def forward(self, x: Any) -> Any:
        """(N, ...) -> the network's output for each row."""
        step = self.chunk
        if not self.compiled._plans and len(x) > CAPTURE_ROWS:
            self.compiled(x[:CAPTURE_ROWS])
        if len(x) <= step:
            return self.compiled(x) if len(x) else self.compiled._orig_mod(x)
        return rb.cat([self.compiled(x[i : i + step]) for i in range(0, len(x), step)])

    def moved(self, digits: Any, shifts: Sequence[tuple[int, int]]) -> Any:
        """A LeNet5's logits of each digit moved by each of `shifts`: (N, 1, 28, 28) array ->
        (len(shifts), N, classes) tensor. Moves of one column at most are read by `Sideways`
        for the digits without ink in an edge column (moved, one would lose it); the others
        one view at a time."""
        from .preprocess import shifted_views

        n, lenet = len(digits), self.compiled._orig_mod
        out = np.empty((len(shifts), n, lenet.config["num_classes"]), np.float32)
        apart = np.ones(n, bool)
        moves = tuple(dx for _, dx in shifts)
        if all(dy == 0 and abs(dx) <= 1 for dy, dx in shifts):
            apart = digits[:, :, :, 0].any(axis=(1, 2)) | digits[:, :, :, -1].any(axis=(1, 2))
        shared, apart = np.flatnonzero(~apart), np.flatnonzero(apart)
        if len(apart):
            views = self(rb.from_numpy(shifted_views(digits[apart], shifts))).numpy()
            out[:, apart] = views.reshape(len(shifts), len(apart), -1)
        if len(shared):
            if moves not in self.sideways:
                self.sideways[moves] = Compiled(Sideways(lenet, moves), self.chunk // 4)
            frames = np.zeros((len(shared), *digits.shape[1:3], digits.shape[3] + 2), np.float32)
            frames[..., 1:-1] = digits[shared]
            read = self.sideways[moves](rb.from_numpy(frames)).numpy()
            out[:, shared] = read.reshape(len(shared), len(moves), -1).swapaxes(0, 1)
        return rb.from_numpy(out)


class Sideways(nn.Module):
    """A LeNet5's readings of digits moved sideways by `moves` columns (each -1, 0 or 1),
    sharing its convolutions: a convolution commutes with moving its input, so a moved
    digit's feature maps are columns of those of a frame one column wider each side, its
    first pooling taken at the move's column phase. (N, C, H, W + 2) frames (the digits in
    columns 1..W, no ink in their edge columns) -> (N, len(moves), classes).

    The LeNet5's first convolution keeps the size (its padding), so a digit moved by dx has
    the frame's first-convolution columns 1 - dx .. W - dx: pooled at phase (1 - dx) % 2,
    from pooled column (1 - dx) // 2 on. Each phase (the frame from column 0 or 1 on) runs
    through the first convolution and pooling (fused by `compile`) and the second
    convolution once; each move takes its columns of it.
    """

    def __init__(self, lenet: Any, moves: Sequence[int]) -> None:
        super().__init__()
        self.lenet, self.moves = lenet, tuple(moves)
        # its fully connected layers (after the Flatten) read every move's features at once
        self.dense = nn.Sequential(*list(lenet.classifier)[1:])

    def forward(self, frames: Any) -> Any:
        """(N, C, H, W + 2) -> (N, len(moves), classes)."""
        conv1, act1, pool1, conv2, act2, pool2 = self.lenet.features
        phases = {(1 - dx) % 2 for dx in self.moves}
        second = {p: conv2(pool1(act1(conv1(frames[..., p:])))) for p in phases}
        columns = (frames.shape[-1] - 2) // 2 - conv2.kernel_size[1] + 1  # a digit's
        features = []  # (second-convolution width)
        for dx in self.moves:
            maps, start = second[(1 - dx) % 2], (1 - dx) // 2
            if start or maps.shape[-1] != columns:
                maps = maps[..., start : start + columns]
            features.append(pool2(act2(maps)))
        return self.dense(rb.stack(features, dim=1).flatten(2))


def served(module: Any) -> Any:
    """`module` as the reader runs it: a TwoViewLeNet or SecondOpinion a copy of itself
    around its members served (their parameters shared), any other network `Compiled`."""
    if isinstance(module, (TwoViewLeNet, SecondOpinion)):
        twin = copy.copy(module)
        object.__setattr__(twin, "_modules", {name: served(member)
                                               for name, member in module._modules.items()})
        return twin
    return Compiled(module)


def on_arrays(fn: Callable[..., Any], *arrays: Any) -> Any:
    """`fn` on tensors of float32 `arrays` (N, ...) under no_grad, its result as an array."""
    with rb.no_grad():
        out = fn(*[rb.from_numpy(np.ascontiguousarray(a, np.float32)) for a in arrays])
    return out.numpy()


def elastic_distort(x: Any, rng: Any, alpha: float = 34.0, sigma: float = 4.0,
                    p: float = 0.5) -> Any:
    """Elastic distortion (Simard et al. 2003) of a random fraction p of a batch
    (N, 1, H, W): each pixel moves by a smooth random field, uniform noise in [-1, 1]
    Gaussian-blurred by sigma and scaled by alpha pixels; bilinear, zero outside.
    x may be a NumPy or a CuPy array (then the filtering runs on its GPU); the random numbers
    come from the NumPy generator `rng` either way, so a seed gives the same distortions."""
    xp = array_module(x)
    if xp is np:
        from scipy import ndimage
    else:
        from cupyx.scipy import ndimage

    pick = rng.random(len(x)) < p
    if not pick.any():
        return x
    if xp is not np:
        pick = xp.asarray(pick)
    sub = x[pick, 0]
    k, h, w = sub.shape
    dx = ndimage.gaussian_filter(xp.asarray(rng.uniform(-1, 1, (k, h, w))),
                                 (0, sigma, sigma)) * alpha
    dy = ndimage.gaussian_filter(xp.asarray(rng.uniform(-1, 1, (k, h, w))),
                                 (0, sigma, sigma)) * alpha
    n, yy, xx = xp.meshgrid(xp.arange(k), xp.arange(h), xp.arange(w), indexing="ij")
    moved = ndimage.map_coordinates(sub, xp.stack([n, yy + dy, xx + dx]), order=1,
                                    mode="constant")
    out = x.copy()
    out[pick, 0] = moved.astype(x.dtype)
    return out


class _Digits(TensorDataset):
    """Images (N, 1, H, W) and targets (N, ...) on the device `where`, served in float32
    batches (float16 images stay half the memory until then); with `elastic` > 0, that
    fraction of each batch elastically distorted there (`elastic_distort`, by `rng`)."""

    def __init__(self, x: Any, y: Any, where: Any, elastic: float = 0.0, rng: Any = None) -> None:
        self.where, self.elastic, self.rng = where, elastic, rng
        x, y = np.asarray(x), np.asarray(y)
        if x.dtype != np.float16:
            x = x.astype(np.float32, copy=False)
        if y.dtype.kind in "iub":  # class labels, as the losses want them
            y = y.astype(np.int64, copy=False)
        super().__init__(self._tensor(x), self._tensor(y))

    def _tensor(self, a: Any) -> Any:
        import rosenblatt as rb

        return rb.from_numpy(a) if self.where.type == "cpu" else rb.tensor(a, device=self.where)

    def __getbatch__(self, indices: Sequence[int]) -> list:
        """[inputs, targets] of the rows `indices`, the inputs distorted when asked."""
        x, y = super().__getbatch__(indices)
        x = x.float()
        if self.elastic > 0:
            x = self._tensor(elastic_distort(x._data, self.rng, p=self.elastic))
        return [x, y]


def fit_digits(model: Any, x: Any, y: Any, *, epochs: int, lr: float, batch_size: int = 64,
               seed: int = 0, elastic: float = 0.0, device: str = "cpu",
               loss: Callable[[Any, Any], Any] | None = None,
               schedule: Callable[[Any, int], Any] | None = None, teacher: Any = None,
               distill: float = 0.7, distill_temperature: float = 2.0,
               callbacks: Sequence[Any] = (), log: Callable[[str], None] | None = None) -> Any:
    """Train `model` on images x (N, 1, H, W) and targets y (N, ...) with the library's
    Trainer: Adam, batches shuffled by `seed`, the loss `loss` (default cross-entropy), the
    rate stepped by `schedule(optimizer, total_steps)` after every step (default: a cosine
    to 0). `elastic`: that fraction of each batch elastically distorted; `device` 'cuda'
    trains on the GPU; `teacher` (a module reading the same inputs): knowledge distillation
    (Hinton et al. 2015, `train.distill`), `distill` the soft targets' weight, T =
    `distill_temperature`; `callbacks`: the Trainer's; `log` gets a line per epoch.
    -> the model, back on the CPU, in eval mode."""
    import rosenblatt as rb
    from rosenblatt._backend import device as parse_device
    from rosenblatt.train import LambdaCallback, Trainer
    from rosenblatt.train.distill import DistillationLoss

    rb.manual_seed(seed)
    data = _Digits(x, y, parse_device(device), elastic, np.random.default_rng(seed))
    loader = rb.utils.data.DataLoader(data, batch_size=batch_size, shuffle=True)
    model.to(device)
    opt = rb.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * len(loader)
    sched = (schedule(opt, steps) if schedule is not None
             else rb.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps))
    loss_fn: Any = loss or F.cross_entropy
    if teacher is not None:
        loss_fn = DistillationLoss(teacher.to(device), distill_temperature, distill)
        hook = loss_fn.attach(model)
    said = [] if log is None else [LambdaCallback(on_epoch_end=lambda _, r: log(
        f"epoch {r['epoch']}/{epochs}: loss {r['train_loss']:.4f} ({r['seconds']:.0f} s)"))]
    try:
        Trainer(model, loss_fn, opt, sched, scheduler_interval="step", progress=False,
                verbose=False, callbacks=[*callbacks, *said]).fit(loader, epochs=epochs)
    finally:
        if teacher is not None:
            hook.remove()
            teacher.to("cpu")
    return model.to("cpu").eval()


def train_cnn(x: Any, y: Any, epochs: int = 6, lr: float = 2e-3, batch_size: int = 64,
              seed: int = 0, init: Any = None, elastic: bool = False,
              log: Callable[[str], None] | None = None, device: str = "cpu",
              member: dict[str, Any] | None = None, teacher: Any = None,
              distill: float = 0.7, distill_temperature: float = 2.0) -> ModuleClassifier:
    """Train (or fine-tune, from `init`: a LeNet5) rosenblatt's LeNet-5 on x (N,1,28,28), y
    by `fit_digits` (elastic distortion, device, a distillation `teacher`: see there);
    `member` widens a new LeNet5 (channels=, hidden=). The returned model is on the CPU."""
    import rosenblatt as rb
    from rosenblatt.models import lenet5

    rb.manual_seed(seed)
    model = init if init is not None else lenet5(**(member or {}))
    fit_digits(model, x, y, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
               elastic=0.5 if elastic else 0.0, device=device, teacher=teacher, distill=distill,
               distill_temperature=distill_temperature, log=log)
    card = {"name": "zip-lenet5", "version": "1", "architecture": "LeNet-5 (ReLU, max pool)",
            "trained_on": "MNIST train file (first 10,000) + digits cut from synthetic ZIP "
                          "fields of those digits", "epochs": epochs}
    return ModuleClassifier(model, "zip-lenet5", card, None)
