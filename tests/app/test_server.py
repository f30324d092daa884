"""The JSON API on a live uvicorn server (127.0.0.1, free port): answers and bad input."""

from __future__ import annotations

import base64
import io
import json
import re
import zlib
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from PIL import Image

from tinyann.app.labels import CLASS_NAMES_EN, CLASS_NAMES_KO


def encode(image, fmt="PNG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def assert_alive(client):
    response = client.get("/api/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_health(client, shapes):
    body = client.get("/api/health").json()
    assert body["classes"] == list(CLASS_NAMES_EN)
    assert body["classes_ko"] == list(CLASS_NAMES_KO)
    assert body["test_images"] == len(shapes.y_test)
    assert body["model"] == "tiny"
    assert body["input_shape"] == [None, 784]


def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for asset in ("/static/app.js", "/static/style.css"):
        assert asset in page.text
        assert client.get(asset).status_code == 200


def test_openapi_schema_documents_the_api(client):
    schema = client.get("/openapi.json").json()
    assert {"/api/predict", "/api/health", "/api/test-images"} <= set(schema["paths"])
    predict = schema["paths"]["/api/predict"]["post"]
    assert "multipart/form-data" in predict["requestBody"]["content"]
    assert {"200", "400", "413", "422"} <= set(predict["responses"])


@pytest.mark.parametrize("label", range(10))
def test_predict_a_photo_of_each_shape(client, images, tmp_path, label):
    path = images.photo_of_shape(label, tmp_path / f"shape{label}.jpg")
    with open(path, "rb") as handle:
        response = client.post("/api/predict", files={"file": ("shape.jpg", handle,
                                                               "image/jpeg")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["label"] == label
    assert body["name"] == CLASS_NAMES_EN[label] and body["name_ko"] == CLASS_NAMES_KO[label]
    probabilities = [p["probability"] for p in body["probabilities"]]
    assert [p["label"] for p in body["probabilities"]] == list(range(10))
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-4)
    assert body["probability"] == max(probabilities)
    png = base64.b64decode(body["input_png"].split(",", 1)[1])
    assert Image.open(io.BytesIO(png)).size == (28, 28)


@pytest.mark.parametrize("name", ["dress_cmyk.jpg", "boot_16bit.png",
                                  "trousers_transparent.png", "sneaker_exif_rotated.jpg"])
def test_predict_accepts_cmyk_sixteen_bit_alpha_and_exif(client, images, name):
    with open(images.path(name), "rb") as handle:
        response = client.post("/api/predict", files={"file": (name, handle)})
    assert response.status_code == 200, response.text
    assert 0 <= response.json()["label"] < 10


def bomb() -> bytes:
    return encode(Image.new("1", (12000, 12000), 0))


def wide() -> bytes:
    return encode(Image.new("RGB", (10000, 10), "white"))


def one_pixel() -> bytes:
    return encode(Image.new("RGB", (1, 1), "white"))


def flat() -> bytes:
    return encode(Image.new("RGB", (64, 64), (200, 200, 200)))


def bad_png_crc() -> bytes:
    data = bytearray(encode(Image.new("L", (32, 32), 9)))
    data[-20] ^= 0xFF  # corrupt the image data chunk
    return bytes(data)


@pytest.mark.parametrize("make, status, match", [
    (lambda: b"this is not an image", 400, "not an image"),
    (lambda: b"", 400, "empty"),
    (lambda: zlib.compress(b"x" * 1000), 400, "not an image"),
    (bomb, 400, "decompression bomb"),
    (one_pixel, 400, "1x1 pixels"),
    (wide, 400, "10000x10 pixels"),
    (flat, 400, "found no item"),
    (bad_png_crc, 400, "could not be decoded|not an image"),
])
def test_bad_uploads_get_400_and_the_server_keeps_answering(client, make, status, match):
    response = client.post("/api/predict", files={"file": ("x.png", make(), "image/png")})
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    assert re.search(match, detail)
    assert_alive(client)


def test_big_uploads_go_through_the_thread_pool_with_the_same_answer(client):
    from tinyann.app import server

    rng = np.random.default_rng(0)
    photo = np.full((700, 600, 3), 235, dtype=np.uint8)
    photo[150:550, 100:500] = rng.integers(0, 90, (400, 400, 3))  # noise: a big PNG
    big = encode(Image.fromarray(photo))
    small = encode(Image.fromarray(photo).resize((300, 350)))
    assert len(big) > server.INLINE_UPLOAD >= len(small)
    answers = [client.post("/api/predict", files={"file": ("p.png", data)}) for data in
               (big, small)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json()["label"] == answers[1].json()["label"]


def test_the_load_clients_raw_request_is_answered(server):
    import asyncio
    from urllib.parse import urlsplit

    from tinyann.app import loadtest

    parts = urlsplit(server.url)

    def post(request):
        # in a thread of its own: Playwright's sync API (the browser tests, earlier in
        # the session) keeps an event loop running in this one
        with ThreadPoolExecutor(1) as pool:
            coroutine = loadtest._post(parts.hostname, parts.port, request)
            return pool.submit(asyncio.run, coroutine).result()

    photo_with_item = Image.new("RGB", (60, 60), "white")
    photo_with_item.paste((0, 0, 0), (20, 10, 40, 50))
    request = loadtest.upload_request(parts.hostname, parts.port, encode(photo_with_item),
                                      'a "quoted".png')
    status, body = post(request)
    assert status == 200 and 0 <= json.loads(body)["label"] < 10
    status, body = post(loadtest.upload_request(parts.hostname, parts.port, b"not an image",
                                                "x.png"))
    assert status == 400 and "not an image" in json.loads(body)["detail"]


def test_truncated_jpeg(client, images):
    with open(images.path("truncated.jpg"), "rb") as handle:
        response = client.post("/api/predict", files={"file": ("t.jpg", handle)})
    assert response.status_code == 400
    assert "truncated" in response.json()["detail"]
    assert_alive(client)


def test_fifty_megabytes_get_413(client):
    big = b"\0" * (50 * 1024 * 1024)
    response = client.post("/api/predict", files={"file": ("big.png", big, "image/png")})
    assert response.status_code == 413
    assert "larger than 5242880 bytes" in response.json()["detail"]
    assert_alive(client)


def test_just_over_five_megabytes_of_file_gets_413(client):
    data = b"\x89PNG" + b"\0" * (5 * 1024 * 1024)
    response = client.post("/api/predict", files={"file": ("big.png", data, "image/png")})
    assert response.status_code == 413
    assert_alive(client)


@pytest.mark.parametrize("kwargs", [
    {},                                                       # an empty body
    {"content": b"\x89PNG...", "headers": {"Content-Type": "image/png"}},  # not multipart
    {"files": {"photo": ("x.png", b"abc", "image/png")}},     # the wrong field
])
def test_requests_without_a_file_get_422(client, kwargs):
    response = client.post("/api/predict", **kwargs)
    assert response.status_code == 422
    assert_alive(client)


def test_confusion_and_filters_agree(client, shapes):
    confusion = client.get("/api/confusion").json()
    matrix = np.array(confusion["matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == len(shapes.y_test)
    for label, predicted in [(0, 0), (3, 3), (9, 9), (9, 8)]:
        page = client.get("/api/test-images", params={"label": label, "predicted": predicted,
                                                      "limit": 500}).json()
        assert page["total"] == matrix[label, predicted]
        assert all(item["label"] == label and item["predicted"] == predicted
                   for item in page["items"])
    mistakes = client.get("/api/test-images", params={"mistakes": True, "limit": 500}).json()
    assert mistakes["total"] == matrix.sum() - np.trace(matrix)
    every = client.get("/api/test-images", params={"offset": 190, "limit": 20}).json()
    assert every["total"] == 200 and len(every["items"]) == 10


def test_one_test_image(client, shapes):
    body = client.get("/api/test-images/5").json()
    assert body["true_label"] == int(shapes.y_test[5])
    png = client.get("/api/test-images/5/image.png")
    assert png.headers["content-type"] == "image/png"
    decoded = np.asarray(Image.open(io.BytesIO(png.content)))
    np.testing.assert_array_equal(decoded, shapes.x_test[5])


@pytest.mark.parametrize("path, status", [
    ("/api/test-images/200", 404), ("/api/test-images/999999/image.png", 404),
    ("/api/test-images/-1", 422), ("/api/test-images?label=10", 422),
    ("/api/test-images?limit=0", 422), ("/api/nothing", 404),
])
def test_bad_browse_requests(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert_alive(client)


def test_fast_and_fastapi_paths_answer_alike(client, images, tmp_path):
    """A plain upload is answered without FastAPI's form parsing; one with a second field
    goes through FastAPI's route: the same classification either way."""
    with open(images.photo_of_shape(4, tmp_path / "shape.png"), "rb") as handle:
        photo = handle.read()
    fast = client.post("/api/predict", files={"file": ("p.png", photo)})
    routed = client.post("/api/predict", files={"file": ("p.png", photo)},
                         data={"note": "makes it a two-field form"})
    assert fast.status_code == routed.status_code == 200
    for answer in (fast, routed):
        assert answer.headers["content-type"] == "application/json"
        assert int(answer.headers["content-length"]) == len(answer.content)
    a, b = fast.json(), routed.json()
    for body in (a, b):
        body.pop("milliseconds")
    assert a == b
    bad = [client.post("/api/predict", files={"file": ("p.png", b"not an image")}, data=extra)
           for extra in (None, {"note": "x"})]
    assert [r.status_code for r in bad] == [400, 400]
    assert bad[0].json() == bad[1].json()


def test_plain_uploads_are_answered_before_fastapis_layers(tiny_run, images, tmp_path):
    """The plain upload skips FastAPI's middleware and routing (server._App); other
    requests, and other forms of the upload, go through them."""
    from fastapi.testclient import TestClient

    from tinyann.app.server import create_app

    app = create_app(tiny_run, test_data=(np.zeros((0, 28, 28), np.uint8), np.zeros(0)))
    seen = []

    @app.middleware("http")
    async def count(request, call_next):
        seen.append((request.method, request.url.path))
        return await call_next(request)

    with open(images.photo_of_shape(3, tmp_path / "shape.png"), "rb") as handle:
        photo = handle.read()
    with TestClient(app) as client:
        assert client.post("/api/predict", files={"file": ("p.png", photo)}).status_code == 200
        assert seen == []
        assert client.post("/api/predict", files={"file": ("p.png", photo)},
                           data={"note": "x"}).status_code == 200
        assert client.get("/api/health").status_code == 200
    assert seen == [("POST", "/api/predict"), ("GET", "/api/health")]
