"""The image-classifier service (`serve --model CHECKPOINT`): top-k predictions equal the model's
own, the onnxruntime backend agrees within 1e-5, and every bad input or model file is refused
with one line."""

import base64
import warnings

import numpy as np
import pytest
from test_app import mnist_pngs, png, png_size, post_files

from rosenblatt.cli import main
from rosenblatt.serve.classifier import (
    NotAClassifierError,
    create_classifier_app,
    load_image_classifier,
)


def _client(app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette warns that httpx2 is preferred
        from fastapi.testclient import TestClient
    return TestClient(app)


@pytest.fixture(scope="module")
def lenet():
    """The committed MNIST LeNet-5, with its card (no training needed)."""
    return load_image_classifier("lenet5-mnist")


@pytest.fixture(scope="module")
def client(lenet):
    with _client(create_classifier_app(lenet)) as c:
        yield c


def _softmax(z):
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max())
    return e / e.sum()


def _probs(body):
    """The response's predictions as a class-index-ordered probability vector."""
    p = np.zeros(10)
    for item in body["predictions"]:
        p[item["index"]] = item["probability"]
    return p


def test_predict_gives_the_top_k_classes(client):
    pngs, labels = mnist_pngs(12)
    right = 0
    for body, label in zip(post_files(client, "/v1/predict", pngs), labels):
        preds = body["predictions"]
        assert len(preds) == 5 and [p["class"] for p in preds] == [str(p["index"]) for p in preds]
        probs = [p["probability"] for p in preds]
        assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
        right += preds[0]["class"] == str(label)
        assert png_size(body["input_png"]) == (28, 28)
    assert right >= 11
    raw = client.post("/v1/predict?k=3", content=pngs[0], headers={"content-type": "image/png"})
    b64 = client.post("/v1/predict?k=10", json={"image": base64.b64encode(pngs[0]).decode()})
    assert len(raw.json()["predictions"]) == 3 and len(b64.json()["predictions"]) == 10
    assert raw.json()["predictions"] == b64.json()["predictions"][:3]
    assert abs(sum(_probs(b64.json())) - 1) < 1e-5


def test_predictions_are_the_models_own(client, lenet):
    """What the service answers is softmax(model(prepare(image))): for an image and for a raw
    input array, through the micro-batcher."""
    from rosenblatt.apps.digits.images import decode_image

    data = mnist_pngs(1)[0][0]
    want = _softmax(lenet.logits(lenet.prepare(decode_image(data))[None])[0])
    got = _probs(client.post("/v1/predict?k=10", content=data,
                             headers={"content-type": "image/png"}).json())
    np.testing.assert_allclose(got, want, atol=1e-6)
    blank = client.post("/v1/predict?k=10", content=png(np.full((40, 40), 255)),
                        headers={"content-type": "image/png"})  # no ink: the blank input
    want = _softmax(lenet.logits(np.zeros((1, 1, 28, 28), np.float32))[0])
    np.testing.assert_allclose(_probs(blank.json()), want, atol=1e-6)
    x = np.random.default_rng(0).random((1, 28, 28), dtype=np.float32)
    got = _probs(client.post("/v1/predict?k=10", json={"input": x.tolist()}).json())
    np.testing.assert_allclose(got, _softmax(lenet.logits(x[None])[0]), atol=1e-6)


def test_onnxruntime_backend_gives_the_same_probabilities(lenet, client, tmp_path, capsys):
    onnx = tmp_path / "lenet.onnx"
    assert main(["export", "lenet5-mnist", "--onnx", str(onnx)]) == 0
    ort = load_image_classifier("lenet5-mnist", "onnxruntime", onnx)
    x = np.random.default_rng(1).random((7, 1, 28, 28), dtype=np.float32)
    ref = lenet.logits(x)
    assert np.abs(ort.logits(x) - ref).max() <= 1e-5 * np.abs(ref).max()
    pngs, _ = mnist_pngs(4)
    with _client(create_classifier_app(ort)) as c:
        assert c.get("/v1/model").json()["backend"] == "onnxruntime"
        for data in pngs:
            a = c.post("/v1/predict?k=10", content=data, headers={"content-type": "image/png"})
            b = client.post("/v1/predict?k=10", content=data,
                            headers={"content-type": "image/png"})
            np.testing.assert_allclose(_probs(a.json()), _probs(b.json()), atol=1e-5)
    with pytest.raises(FileNotFoundError, match="rosenblatt export"):
        load_image_classifier("lenet5-mnist", "onnxruntime", tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not onnx")
    with pytest.raises(NotAClassifierError, match="not an ONNX model"):
        load_image_classifier("lenet5-mnist", "onnxruntime", tmp_path / "junk.onnx")


@pytest.mark.parametrize("case, status, words", [
    ("not_an_image", 415, "not a recognised image"),
    ("text_content_type", 415, "unsupported content type"),
    ("wrong_shape", 422, "does not fit the model's (1, 28, 28)"),
    ("not_numbers", 422, "not an array of numbers"),
    ("nan", 422, "NaN"),
    ("k_zero", 422, "k must be between 1 and 10"),
    ("k_too_big", 422, "k must be between 1 and 10"),
    ("k_not_a_number", 422, "invalid request: query.k"),
    ("bad_base64", 422, "not valid base64"),
    ("too_many_bytes", 413, "over the limit"),
])
def test_bad_input_is_answered_with_one_line(client, case, status, words):
    good = png(np.full((40, 40), 255))
    image = {"content-type": "image/png"}
    nan_row = b"[" + b", ".join([b"NaN"] * 28) + b"]"  # (1, 28, 28) of NaN: Python's JSON
    requests = {
        "not_an_image": ("", dict(content=b"hello, not an image", headers=image)),
        "text_content_type": ("", dict(content=b"1234", headers={"content-type": "text/plain"})),
        "wrong_shape": ("", dict(json={"input": np.zeros((3, 28, 28)).tolist()})),
        "not_numbers": ("", dict(json={"input": [["a", "b"]]})),
        "nan": ("", dict(content=b'{"input": [[' + b", ".join([nan_row] * 28) + b"]]}",
                         headers={"content-type": "application/json"})),
        "k_zero": ("?k=0", dict(content=good, headers=image)),
        "k_too_big": ("?k=11", dict(content=good, headers=image)),
        "k_not_a_number": ("?k=five", dict(content=good, headers=image)),
        "bad_base64": ("", dict(json={"image": "@@ not base64 @@"})),
        "too_many_bytes": ("", dict(content=b"\x89PNG" + b"0" * 5_000_000, headers=image)),
    }
    query, kwargs = requests[case]
    r = client.post("/v1/predict" + query, **kwargs)
    assert r.status_code == status, (case, r.text)
    body = r.json()
    assert set(body) == {"detail"} and "\n" not in body["detail"]
    assert words in body["detail"], body["detail"]


def test_health_ready_metrics_model_and_page(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    info = client.get("/v1/model").json()
    assert info["input_shape"] == [None, 1, 28, 28] and info["output_shape"] == [None, 10]
    assert info["classes"] == [str(i) for i in range(10)] and info["backend"] == "rosenblatt"
    assert info["preprocessing"]["fit"] == "digit" and info["accuracy"] > 0.98
    before = client.get("/metrics").text.count('path="/v1/predict",status="200"')
    client.post("/v1/predict", content=mnist_pngs(1)[0][0], headers={"content-type": "image/png"})
    text = client.get("/metrics").text
    assert 'rosenblatt_requests_total{method="POST",path="/v1/predict",status="200"}' in text
    assert before <= 1 and "rosenblatt_batches_total" in text
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text and "predict.js" in page.text
    assert client.get("/static/pad.js").status_code == 200
    assert "/v1/predict" in client.get("/openapi.json").json()["paths"]


def test_a_model_file_that_is_not_an_image_classifier_is_refused(tmp_path, capsys):
    import rosenblatt as rb

    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    rb.save({"model": {"w": rb.zeros(2)}, "config": {"model": "lstm", "vocab_size": 5}},
            tmp_path / "text.safetensors")
    rb.save({"model": {"w": rb.zeros(2)}, "config": {
        "model": {"name": "mlp", "kwargs": {}}, "input_shape": [2], "num_classes": 2,
        "classes": ["0", "1"]}}, tmp_path / "moons.safetensors")
    rb.save({"w": rb.zeros(2)}, tmp_path / "bare.safetensors")
    cases = {"junk": "not a valid rosenblatt checkpoint", "text": "not an image classifier",
             "moons": "not images", "bare": "no model config"}
    for name, words in cases.items():
        with pytest.raises(NotAClassifierError, match=words):
            load_image_classifier(tmp_path / f"{name}.safetensors")
        assert main(["serve", "--model", str(tmp_path / f"{name}.safetensors")]) == 1
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and words in err and name in err
    assert main(["serve", "--model", "zip-reader", "--backend", "onnxruntime"]) == 1
    assert "not the ZIP reader" in capsys.readouterr().err


def test_serve_model_names_mean_what_they_mean_elsewhere(monkeypatch):
    """`serve --model lenet5-mnist` serves the committed LeNet-5 as an image classifier (as
    `evaluate`, `export` and bench_serve.py name it); the ZIP reader is `zip-reader[:...]`."""
    import rosenblatt.serve.app
    import rosenblatt.serve.common

    served: list = []
    monkeypatch.setattr(rosenblatt.serve.common, "run_server",
                        lambda app, host, port, name: served.append(("classifier", name)))
    monkeypatch.setattr(rosenblatt.serve.app, "run",
                        lambda **kw: served.append(("zip", kw["model"])))
    for model in ("lenet5-mnist", "zip-reader", "zip-reader:lenet5-mnist"):
        assert main(["serve", "--model", model]) == 0
    assert served == [("classifier", "lenet5-mnist (rosenblatt)"), ("zip", "zip-reader"),
                      ("zip", "zip-reader:lenet5-mnist")]


def test_a_model_trained_by_the_cli_is_served(tmp_path, capsys):
    """`rosenblatt train` on the 8x8 digits (a few seconds), then served: each test image sent
    as a PNG gets the class the model itself gives its tensor."""
    import rosenblatt as rb

    out = tmp_path / "run"
    assert main(["train", "--dataset", "digits", "--epochs", "4", "--hidden", "64",
                 "--no-progress", "--out", str(out)]) == 0
    capsys.readouterr()
    ckpt = out / "best.safetensors" if (out / "best.safetensors").is_file() \
        else out / "last.safetensors"
    clf = load_image_classifier(ckpt)
    assert clf.input_shape == (1, 8, 8) and clf.preprocessing["fit"] == "resize"
    test = rb.datasets.Digits(train=False)
    xs = np.stack([test[i][0].numpy() for i in range(60)])
    labels = np.array([test[i][1] for i in range(60)])
    own = clf.logits(xs).argmax(axis=1)
    with _client(create_classifier_app(clf)) as c:
        assert c.get("/v1/model").json()["classes"] == [str(i) for i in range(10)]
        served = [int(c.post("/v1/predict?k=1", content=png(np.round(x[0] * 255)),
                             headers={"content-type": "image/png"}).json()
                      ["predictions"][0]["index"]) for x in xs]
    assert (own == labels).mean() >= 0.85  # it learned
    assert (np.array(served) == own).mean() >= 59 / 60  # PNG pixels are x rounded to 1/255
