"""The server's classes come from the model, and predictions run concurrently."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tinyann.app import runs
from tinyann.app.server import create_app


def png_bytes(image28) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image28).save(buffer, format="PNG")
    return buffer.getvalue()


def three_class_run(tmp_path, metrics=None):
    import tinyann as keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(3, activation="softmax")])
    folder = tmp_path / "three"
    folder.mkdir()
    model.save(str(folder / "model.keras"))
    if metrics is not None:
        (folder / "metrics.json").write_text(json.dumps(metrics))
    return runs.load_run(str(folder))


def test_a_three_class_model_serves_three_generic_classes(tmp_path, shapes):
    run = three_class_run(tmp_path)
    labels = np.array([0, 1, 2, 1], dtype=np.uint8)
    with TestClient(create_app(run, test_data=(shapes.x_test[:4], labels))) as client:
        health = client.get("/api/health").json()
        assert health["classes"] == ["class 0", "class 1", "class 2"]
        assert len(health["classes_ko"]) == 3 and health["test_images"] == 4
        body = client.post("/api/predict", files={"file": ("a.png",
                                                           png_bytes(shapes.x_test[0]))}).json()
        assert [p["label"] for p in body["probabilities"]] == [0, 1, 2]
        assert body["name"] == health["classes"][body["label"]]
        assert np.array(client.get("/api/confusion").json()["matrix"]).shape == (3, 3)
        assert client.get("/api/test-images", params={"label": 3}).status_code == 422


def test_class_names_from_metrics_json_and_test_labels_it_lacks(tmp_path, shapes):
    names = ["top", "bottom", "shoe"]
    run = three_class_run(tmp_path, {"class_names": names})
    # Fashion-MNIST's labels go up to 9: this model has no class for them
    with TestClient(create_app(run, test_data=(shapes.x_test, shapes.y_test))) as client:
        health = client.get("/api/health").json()
        assert health["classes"] == names and health["classes_ko"] == names
        assert health["test_images"] == 0 and health["test_accuracy"] is None


def test_class_names_fall_back_to_fashion_mnist_for_ten_outputs(tiny_run):
    from tinyann.app.labels import CLASS_NAMES_EN, CLASS_NAMES_KO

    assert runs.class_names(runs.load_run(tiny_run)) == (list(CLASS_NAMES_EN),
                                                         list(CLASS_NAMES_KO))


def test_commands_that_score_on_fashion_mnist_require_ten_classes(tmp_path):
    run = three_class_run(tmp_path)
    with pytest.raises(ValueError, match=r"outputs of shape \(3,\); expected 10 class"):
        runs.load_run(run.folder, classes=10)


def test_concurrent_predictions_match_sequential_ones(tiny_app, shapes):
    """Uploads classified at once from 8 threads get the answers they get one at a time."""
    uploads = [png_bytes(image) for image in shapes.x_test[:24]]
    with TestClient(tiny_app) as client:
        def classify(data):
            response = client.post("/api/predict", files={"file": ("x.png", data)})
            assert response.status_code == 200, response.text
            return [p["probability"] for p in response.json()["probabilities"]]

        alone = [classify(data) for data in uploads]
        with ThreadPoolExecutor(8) as pool:
            together = list(pool.map(classify, uploads * 4))
    assert together == alone * 4


def test_the_prewritten_answer_is_what_jsonresponse_makes_of_classify(tiny_app, shapes):
    """/api/predict's body is written from pieces made at start-up: the same JSON, key for
    key and digit for digit, as JSONResponse of the dict the other routes return."""
    from fastapi.responses import JSONResponse

    state = tiny_app.state.tinyann
    for image in [shapes.x_test[i].astype(np.float32) / 255 for i in range(5)]:
        body = state.answer(image, started=0.0)
        expected = json.loads(JSONResponse(state.classify(image, started=1.0)).body)
        decoded = json.loads(body)
        assert decoded.pop("milliseconds") > 0 and expected.pop("milliseconds") >= 0
        assert decoded == expected
        # written as JSONResponse writes: compact, Korean as is, floats by their repr
        assert body == json.dumps(decoded | {"milliseconds": json.loads(body)["milliseconds"]},
                                  ensure_ascii=False, separators=(",", ":")).encode()


def test_a_model_answering_nan_still_fails_as_before(tiny_app, monkeypatch):
    state = tiny_app.state.tinyann
    monkeypatch.setattr(runs, "predict_proba", lambda model, x: np.full((1, 10), np.nan))
    with pytest.raises(ValueError, match="JSON compliant"):
        state.answer(np.zeros((28, 28), dtype=np.float32), started=0.0)
