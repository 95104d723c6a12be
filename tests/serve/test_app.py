"""The HTTP service: readings, every bad-input answer, review auth, metrics, OpenAPI."""

import asyncio
import base64
import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from rosenblatt.apps.digits.synth import make_fields, mnist_test_half

TOKEN = "test-token-123"


@pytest.fixture
def app(zip_reader, tmp_path):
    from rosenblatt.serve.app import create_app

    return create_app(zip_reader, token=TOKEN, db_path=tmp_path / "review.sqlite",
                      max_bytes=200_000)


@pytest.fixture
def client(app):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette warns that httpx2 is preferred
        from fastapi.testclient import TestClient
    with TestClient(app) as c:
        yield c


def png(array) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header claiming width x height (a few hundred bytes: a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + (width + 7) // 8) * min(height, 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def mnist_pngs(n=10):
    images, labels = mnist_test_half("evaluation")
    return [png(np.pad(255 - img, 6, constant_values=255)) for img in images[:n]], labels[:n]


def post_files(client, path: str, pngs: list[bytes]) -> list[dict]:
    """Each PNG posted to `path` as a multipart file; the JSON answers (each a 200)."""
    out = []
    for data in pngs:
        r = client.post(path, files={"file": ("d.png", data, "image/png")})
        assert r.status_code == 200, r.text
        out.append(r.json())
    return out


def png_size(b64: str) -> tuple[int, int]:
    """(width, height) of a base64 PNG."""
    return Image.open(io.BytesIO(base64.b64decode(b64))).size


def test_digits_are_read_through_the_api(client):
    pngs, labels = mnist_pngs(12)
    right = 0
    for body, label in zip(post_files(client, "/v1/digit", pngs), labels):
        right += body["reading"] == str(label)
        d = body["digits"][0]
        assert len(d["probabilities"]) == 10 and np.isclose(sum(d["probabilities"]), 1, atol=1e-4)
        assert png_size(d["input_png"]) == (28, 28)
        assert body["decision"] in ("accept", "review") and "total" in body["timings_ms"]
    assert right >= 10


def test_zip_as_json_base64_and_raw_bytes(client):
    field = make_fields(1, part="evaluation", seed=4)[0]
    data = png(field.image)
    a = client.post("/v1/zip", json={"image": base64.b64encode(data).decode()})
    b = client.post("/v1/zip", content=data, headers={"content-type": "image/png"})
    assert a.status_code == b.status_code == 200
    assert a.json()["reading"] == b.json()["reading"]
    assert len(a.json()["digits"]) == len(a.json()["reading"])
    if a.json()["decision"] == "review":
        assert a.json()["review_id"] is not None


@pytest.mark.parametrize("case, status", [
    ("not_an_image", 415),
    ("truncated_png", 415),
    ("text_content_type", 415),
    ("too_many_bytes", 413),
    ("absurd_dimensions", 413),
    ("bomb_within_byte_limit", 413),
    ("malformed_json", 422),
    ("json_without_image", 422),
    ("bad_base64", 422),
    ("malformed_multipart", 422),
    ("multipart_without_file", 422),
    ("empty_body", 422),
])
def test_bad_input_is_answered_with_one_line(client, case, status):
    good = png(np.full((40, 40), 255))
    requests = {
        "not_an_image": dict(content=b"hello, not an image", headers={"content-type": "image/png"}),
        "truncated_png": dict(content=png(np.random.default_rng(0).integers(0, 255, (60, 60)))[:80],
                              headers={"content-type": "image/png"}),
        "text_content_type": dict(content=b"12345", headers={"content-type": "text/plain"}),
        "too_many_bytes": dict(content=b"\x89PNG" + b"0" * 300_000,
                               headers={"content-type": "image/png"}),
        "absurd_dimensions": dict(content=bomb_png(100_000, 100_000),
                                  headers={"content-type": "image/png"}),
        "bomb_within_byte_limit": dict(
            files={"file": ("b.png", bomb_png(4000, 4000), "image/png")}),
        "malformed_json": dict(content=b"{not json", headers={"content-type": "application/json"}),
        "json_without_image": dict(json={"picture": "x"}),
        "bad_base64": dict(json={"image": "@@@ not base64 @@@"}),
        "malformed_multipart": dict(content=b"--xyz\r\ngarbage",
                                    headers={"content-type": "multipart/form-data; boundary=abc"}),
        "multipart_without_file": dict(files={"other": ("a.png", good, "image/png")}),
        "empty_body": dict(content=b"", headers={"content-type": "image/png"}),
    }
    for path in ("/v1/zip", "/v1/digit"):
        r = client.post(path, **requests[case])
        assert r.status_code == status, (case, path, r.text)
        body = r.json()
        assert set(body) == {"detail"} and isinstance(body["detail"], str)
        assert "\n" not in body["detail"]
    assert client.get("/healthz").status_code == 200  # and the server is still up


def test_blank_image_goes_to_review_as_no_ink(client):
    for path in ("/v1/zip", "/v1/digit"):
        r = client.post(path, files={"file": ("w.png", png(np.full((50, 160), 250)), "image/png")})
        assert r.status_code == 200
        body = r.json()
        assert body["decision"] == "review" and body["reasons"] == [{"reason": "no_ink"}]
        assert body["reading"] == "" and body["review_id"] is not None


def test_review_needs_the_token_and_labels_items(client):
    r = client.post("/v1/zip", files={"file": ("w.png", png(np.full((50, 160), 250)), "image/png")})
    item = r.json()["review_id"]
    assert client.get("/v1/review").status_code == 401
    assert client.get("/v1/review", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.post(f"/v1/review/{item}", json={"label": "1"}).status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    listing = client.get("/v1/review", headers=auth)
    assert listing.status_code == 200
    items = listing.json()["items"]
    assert [i["id"] for i in items] == [item]
    assert png_size(items[0]["image_png"]) == (160, 50)
    assert client.post(f"/v1/review/{item}", json={"label": "12a"}, headers=auth).status_code == 422
    assert client.post("/v1/review/9999", json={"label": "1"}, headers=auth).status_code == 404
    done = client.post(f"/v1/review/{item}", json={"label": "90210"}, headers=auth)
    assert done.status_code == 200 and done.json()["status"] == "labelled"
    assert client.get("/v1/review", headers=auth).json()["counts"] == {"pending": 0, "labelled": 1}


def test_review_is_closed_without_a_configured_token(zip_reader, tmp_path):
    from rosenblatt.serve.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    app = create_app(zip_reader, token="", db_path=tmp_path / "q.sqlite")
    with TestClient(app) as c:
        assert c.get("/v1/review", headers={"Authorization": "Bearer "}).status_code == 401


def test_health_model_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    info = client.get("/v1/model").json()
    assert info["input_shape"] == [None, 1, 28, 28] and 0 < info["threshold"] <= 1
    client.post("/v1/digit", files={"file": ("d.png", mnist_pngs(1)[0][0], "image/png")})
    client.post("/v1/digit", content=b"nope", headers={"content-type": "image/png"})
    text = client.get("/metrics").text
    assert 'rosenblatt_requests_total{method="POST",path="/v1/digit",status="200"} 1' in text
    assert 'rosenblatt_requests_total{method="POST",path="/v1/digit",status="415"} 1' in text
    assert 'rosenblatt_request_seconds_bucket{path="/v1/digit",le="+Inf"} 2' in text
    assert "rosenblatt_decisions_total{endpoint=\"digit\"" in text


def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text
    assert client.get("/review").status_code == 200
    assert client.get("/static/app.js").status_code == 200


def test_pages_share_one_head_and_fill_in_their_parts(client):
    reader, review = client.get("/").text, client.get("/review").text
    for text, title, scripts in ((reader, "Rosenblatt ZIP reader", ["pad.js", "app.js"]),
                                 (review, "Review queue — Rosenblatt ZIP reader", ["review.js"])):
        head = text[:text.index("<body>")]
        assert text.startswith("<!doctype html>") and text.endswith("</body>\n</html>\n")
        assert f"<title>{title}</title>" in head and 'href="/static/style.css"' in head
        tail = "".join(f'<script src="/static/{name}"></script>\n' for name in scripts)
        assert text.endswith(tail + "</body>\n</html>\n") and "$" not in text
    assert '<button id="read">Read</button>\n    <button id="clear">' in reader
    assert 'id="token"' in review and "<canvas" not in review


def test_openapi_schema_is_valid(app):
    schema = app.openapi()
    try:
        from openapi_spec_validator import validate
    except ImportError:
        validate = None
    if validate is not None:
        validate(schema)
    assert schema["openapi"].startswith("3.")
    for path in ("/v1/digit", "/v1/zip", "/v1/review", "/v1/review/{item_id}", "/healthz",
                 "/readyz", "/metrics", "/v1/model"):
        assert path in schema["paths"]
    body = schema["paths"]["/v1/zip"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data", "image/png"} <= set(body)


def post_together(app, path, images):
    """POST each PNG to `path` at once (one event loop: the micro-batcher gathers them)."""
    import httpx

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            rs = await asyncio.gather(*[
                c.post(path, content=d, headers={"content-type": "image/png"}) for d in images])
        await app.state.batcher.stop()
        return rs

    return asyncio.run(go())


def test_concurrent_requests_share_network_calls(app):
    responses = post_together(app, "/v1/digit", mnist_pngs(16)[0])
    assert all(r.status_code == 200 for r in responses)
    metrics = app.state.metrics
    assert metrics.batched_items == 16
    assert metrics.batches < 16


def test_jpeg_cmyk_upload_is_queued_as_png(client):
    buf = io.BytesIO()
    Image.new("CMYK", (80, 30), (0, 0, 0, 0)).save(buf, "JPEG")
    r = client.post("/v1/zip", files={"file": ("c.jpg", buf.getvalue(), "image/jpeg")})
    assert r.status_code == 200 and r.json()["reasons"] == [{"reason": "no_ink"}]
    auth = {"Authorization": f"Bearer {TOKEN}"}
    item = client.get("/v1/review", headers=auth).json()["items"][0]
    assert base64.b64decode(item["image_png"])[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_zip_reader_on_lenet5_mnist_reads_with_the_committed_weights():
    """`serve --model zip-reader:lenet5-mnist` reads with the committed MNIST LeNet-5 (with its
    committed calibration: nothing is trained or calibrated on start)."""
    from rosenblatt.apps.digits.model import WEIGHTS_DIR
    from rosenblatt.serve.app import create_app, serve_reader

    reader = serve_reader("zip-reader:lenet5-mnist")
    assert reader.classifier.name == "lenet5" and reader.calibration
    assert str(WEIGHTS_DIR) in str(reader.classifier.path)
    pngs, labels = mnist_pngs(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with TestClient(create_app(reader, token=TOKEN, db_path=":memory:")) as client:
        assert client.get("/v1/model").json()["name"] == "lenet5"
        read = [client.post("/v1/digit", content=p, headers={"content-type": "image/png"})
                .json()["reading"] for p in pngs]
    assert sum(r == str(y) for r, y in zip(read, labels)) >= 4
    with pytest.raises(ValueError, match="zip-reader or zip-reader:lenet5-mnist"):
        serve_reader("lenet5-mnist")  # a plain image classifier: `create_classifier_app`


def test_service_readings_are_the_batch_readers(app, zip_reader):
    """One reading path: concurrent requests, gathered into one `classify` call, read each
    field as the batch reader does (`read_fields`: digits, probabilities, decision, boxes)."""
    # fields 48 and 61 of these were read differently by the service before it batched
    # `classify` (it chose the cut on the cascade's output)
    pngs = [png(f.image) for f in make_fields(64, part="evaluation", seed=21)[46:64]]
    want = zip_reader.read_fields(pngs)  # the same encoded images: the same decoding
    responses = post_together(app, "/v1/zip", pngs)
    assert app.state.metrics.batches < len(pngs)  # they shared network calls
    for r, w in zip(responses, want):
        body = r.json()
        assert (body["reading"], body["decision"]) == (w.text, w.decision)
        # the network's sums differ in the last bits with the batch they are in
        assert [{**x, "confidence": 0} for x in body["reasons"]] == \
            [{**x, "confidence": 0} for x in w.reasons]
        assert np.allclose([x.get("confidence", 0) for x in body["reasons"]],
                           [x.get("confidence", 0) for x in w.reasons], atol=2e-6)
        assert [d["box"] for d in body["digits"]] == [list(b) for b in w.boxes]
        got = np.array([d["probabilities"] for d in body["digits"]]).reshape(-1, 10)
        np.testing.assert_allclose(got, np.array(w.probabilities).reshape(-1, 10), atol=2e-6)
