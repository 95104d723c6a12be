"""`rosenblatt zip ...` through the command registry."""

import json

from rosenblatt.apps.digits.reader import ZipReader
from rosenblatt.cli import main


def test_make_samples_then_read(tmp_path, capsys, monkeypatch, zip_reader):
    out = tmp_path / "samples"
    assert main(["zip", "make-samples", "--n", "4", "--out", str(out), "--seed", "3"]) == 0
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) == 4
    truth = json.loads(pngs[0].with_suffix(".json").read_text())
    assert len(truth["zip"]) == 5 and truth["zip"].isdigit() and len(truth["boxes"]) == 5
    capsys.readouterr()
    monkeypatch.setattr(ZipReader, "load", classmethod(lambda cls, **kw: zip_reader))
    assert main(["zip", "read", "--json", *map(str, pngs)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["image"] for line in lines] == list(map(str, pngs))
    assert all(line["decision"] in ("accept", "review") for line in lines)
    assert main(["zip", "evaluate", "--n", "10", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["fields"] == 10 and 0 <= result["automation_rate"] <= 1


def test_retrain_without_labels_is_a_clear_error(tmp_path, capsys):
    assert main(["zip", "retrain", "--db", str(tmp_path / "q.sqlite")]) == 1
    assert "no labelled digits" in capsys.readouterr().err


def test_retrain_fine_tunes_on_labelled_review_items(tmp_path, capsys, monkeypatch, zip_reader):
    import numpy as np

    from rosenblatt.apps.digits import model as model_module
    from rosenblatt.apps.digits import thresholds as th
    from rosenblatt.apps.digits.review import ReviewQueue
    from rosenblatt.apps.digits.synth import make_fields

    monkeypatch.setenv("ROSENBLATT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(model_module, "load_classifier", lambda **kw: zip_reader.classifier)
    queue = ReviewQueue(tmp_path / "q.sqlite")
    fields = make_fields(30, part="calibration", seed=5)
    readings = zip_reader.read_fields([f.image for f in fields])
    for f, r in zip(fields, readings):
        item = queue.add("zip", b"png", r.text, r.probabilities, r.reasons, r.inputs)
        queue.label(item, f.zip)
    x, y, _ = queue.labelled_digits()
    assert len(y) >= 100
    before = th.nll(zip_reader.classifier(x[:, None]), y)
    assert main(["zip", "retrain", "--db", str(tmp_path / "q.sqlite"), "--epochs", "2",
                 "--replay", "300", "--export", str(tmp_path / "d.npz")]) == 0
    assert (tmp_path / "d.npz").exists()
    assert "fine-tuned" in capsys.readouterr().out
    tuned = model_module.finetuned_classifier()
    assert tuned is not None and tuned.version != zip_reader.classifier.version
    after = th.nll(tuned(x[:, None]), y)
    assert after < before
    assert np.mean(tuned(x[:, None]).argmax(1) == y) >= np.mean(
        zip_reader.classifier(x[:, None]).argmax(1) == y)
