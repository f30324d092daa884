"""Fixtures for the app: a synthetic Fashion-MNIST of shapes, a tiny trained run, a server.

The shapes survive the photo pipeline (crop to the item, fit into 28x28), so a model
trained on them classifies a big drawing of a shape correctly: tests can know the
right label without the real data set. A tiny run is trained once per session.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image, ImageDraw

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "fixtures", "images")


def draw_shape(label: int, size: int = 28, ink=255, paper=0, rng=None) -> Image.Image:
    """Class ``label``'s shape filling a ``size`` square (longest edge = size)."""
    image = Image.new("L", (size, size), paper)
    d = ImageDraw.Draw(image)
    s = size - 1
    w = max(2, size // 4)
    jitter = 0 if rng is None else int(rng.integers(0, max(1, size // 14)))
    shapes = {
        0: lambda: d.rectangle([0, 0, s, s], fill=ink),
        1: lambda: d.rectangle([size // 2 - w // 2 - jitter, 0, size // 2 + w // 2, s], fill=ink),
        2: lambda: d.rectangle([0, size // 2 - w // 2 - jitter, s, size // 2 + w // 2], fill=ink),
        3: lambda: d.polygon([(size // 2, 0), (s, s), (0, s)], fill=ink),
        4: lambda: d.rectangle([0, 0, s, s], outline=ink, width=w - jitter // 2),
        5: lambda: (d.line([(0, 0), (s, s)], fill=ink, width=w),
                    d.line([(0, s), (s, 0)], fill=ink, width=w)),
        6: lambda: (d.rectangle([size // 2 - w // 2, 0, size // 2 + w // 2, s], fill=ink),
                    d.rectangle([0, size // 2 - w // 2, s, size // 2 + w // 2], fill=ink)),
        7: lambda: d.ellipse([0, 0, s, s], fill=ink),
        8: lambda: (d.rectangle([0, 0, w, s], fill=ink), d.rectangle([0, s - w, s, s], fill=ink)),
        9: lambda: (d.rectangle([0, 0, w + jitter, s], fill=ink),
                    d.rectangle([s - w, 0, s, s], fill=ink), d.rectangle([0, 0, s, w], fill=ink)),
    }
    shapes[int(label)]()
    return image


def shapes_dataset(n: int, seed: int = 0):
    """(images uint8 (n, 28, 28), labels uint8 (n,)): noisy shapes, all classes."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 10).astype(np.uint8)
    rng.shuffle(labels)
    images = np.empty((n, 28, 28), dtype=np.uint8)
    for i, label in enumerate(labels):
        base = np.asarray(draw_shape(label, rng=rng), dtype=np.float64)
        base *= rng.uniform(0.6, 1.0)
        images[i] = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    return images, labels


def photo_of_shape(label: int, path, size=(300, 240)) -> str:
    """A 'photo' of a shape: dark ink on an off-white RGB background, off centre."""
    width, height = size
    photo = Image.new("RGB", size, (236, 234, 228))
    side = min(width, height) * 2 // 3
    mask = draw_shape(label, side)
    photo.paste((30, 40, 70), (width // 6, height // 8), mask)
    photo.save(path)
    return str(path)


@pytest.fixture(scope="session")
def shapes():
    """Synthetic train and test sets: SimpleNamespace(x_train, y_train, x_test, y_test)."""
    x_train, y_train = shapes_dataset(1000, seed=1)
    x_test, y_test = shapes_dataset(200, seed=2)
    y_test[:8] = (y_test[:8] + 1) % 10  # mislabelled: the report has mistakes to show
    return SimpleNamespace(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


@pytest.fixture
def fake_fashion_mnist(monkeypatch, shapes):
    """Makes ``fashion_mnist.load_data`` return the shapes: no real data needed."""
    from tinyann.datasets import fashion_mnist

    def load_data(path=None):
        return (shapes.x_train, shapes.y_train), (shapes.x_test, shapes.y_test)

    monkeypatch.setattr(fashion_mnist, "load_data", load_data)
    return shapes


def train_run(folder, x_train, y_train, kind="linear", epochs=3):
    """Trains a small model and writes a run folder as ``tinyann train`` does."""
    import tinyann as keras
    from tinyann.cli import build_model

    keras.utils.set_random_seed(42)
    model = build_model(kind, keras)
    x = x_train.astype("float32") / 255.0
    x = x.reshape((len(x),) + tuple(model.input_shape[1:]))
    split = len(x) * 4 // 5
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x[:split], y_train[:split], epochs=epochs, batch_size=32,
                        validation_data=(x[split:], y_train[split:]), verbose=0)
    os.makedirs(folder, exist_ok=True)
    model.save(os.path.join(folder, "model.keras"))
    metrics = {"model": kind, "optimizer": "adam", "epochs": epochs, "batch_size": 32,
               "seed": 42, "fit_seconds": 0.5, "test_accuracy": 0.9}
    with open(os.path.join(folder, "metrics.json"), "w") as handle:
        json.dump(metrics, handle)
    with open(os.path.join(folder, "history.json"), "w") as handle:
        json.dump(history.history, handle)
    return str(folder)


@pytest.fixture
def make_run():
    """``train_run(folder, x_train, y_train, kind="linear", epochs=3)`` for a test."""
    return train_run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, shapes):
    """A run folder of the seeds' linear model trained on the shapes (once a session)."""
    return train_run(tmp_path_factory.mktemp("runs") / "tiny", shapes.x_train, shapes.y_train,
                     kind="linear", epochs=4)


@pytest.fixture(scope="session")
def real_run(tmp_path_factory):
    """The seeds' linear model trained on real Fashion-MNIST, 3 epochs (slow tests only)."""
    from tinyann.datasets import fashion_mnist

    (x_train, y_train), _ = fashion_mnist.load_data()
    return train_run(tmp_path_factory.mktemp("runs") / "real", x_train, y_train,
                     kind="linear", epochs=3)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerThread:
    """uvicorn serving ``app`` on 127.0.0.1 in a thread; stops on exit or after 30 min
    (the session's server must outlive every app test before the last that uses it: on a
    busy machine they took more than the 5 min this was)."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.guard = threading.Timer(1800.0, self.stop)
        self.guard.daemon = True

    def __enter__(self):
        self.thread.start()
        self.guard.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def stop(self):
        self.server.should_exit = True

    def __exit__(self, *exc):
        self.guard.cancel()
        self.stop()
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def tiny_app(tiny_run, shapes):
    """The FastAPI app for the tiny run, browsing the synthetic test set."""
    from tinyann.app.server import create_app

    return create_app(tiny_run, test_data=(shapes.x_test, shapes.y_test))


@pytest.fixture(scope="session")
def server(tiny_app):
    """A live server for the tiny run on a free port of 127.0.0.1."""
    with ServerThread(tiny_app) as running:
        yield running


@pytest.fixture
def images():
    """Paths of the fixture photos, and helpers to make pictures."""
    return SimpleNamespace(dir=FIXTURES, path=lambda name: os.path.join(FIXTURES, name),
                           photo_of_shape=photo_of_shape, draw_shape=draw_shape)


@pytest.fixture
def page(browser):
    """A fresh page that records console errors and uncaught exceptions."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.set_default_timeout(15000)
    yield page
    context.close()
