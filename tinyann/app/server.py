"""``tinyann serve``: the web page and its JSON API (FastAPI).

    GET  /                         the page (static/index.html; no build step)
    GET  /api/health               model, classes, input size and colour, test accuracy
    POST /api/predict              multipart ``file`` -> probabilities and the model's input
    GET  /api/confusion            the test set's confusion matrix
    GET  /api/test-images          test images filtered by true / predicted class, mistakes
    GET  /api/test-images/{i}      one test image's prediction
    GET  /api/test-images/{i}/image.png
    GET  /openapi.json, /docs      the schema and its browsable form

Uploads over :data:`MAX_UPLOAD` bytes get 413 before any decoding; anything that is
not a usable image gets 400 with a one-line ``detail``. A Fashion-MNIST model gets
photos through ``preprocess`` (28x28, light-on-dark) and browses Fashion-MNIST's test
set; a run trained on image folders gets them resized to its input (``resize``) and
browses its held-out test images (``images.npz``).
"""

from __future__ import annotations

import base64
import functools
import gc
import json
import os
import time
from dataclasses import asdict, dataclass
from typing import Annotated

import numpy as np
from fastapi import FastAPI, File, HTTPException, Path, Query, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from tinyann.app import multipart, preprocess, resize, runs

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
MAX_UPLOAD = preprocess.MAX_BYTES
#: multipart framing around a 5 MB file: boundaries and part headers
_FRAMING = 64 * 1024
#: a larger body is read and thrown away (so the client sees the 413) up to this much
_DRAIN_LIMIT = 64 * 1024 * 1024
#: uploads up to this size are classified on the event loop: their work (about 0.3 ms
#: for a 300x240 PNG, 1 ms for a 640x480 JPEG) costs less than the hop to a worker
#: thread and back; bigger photos go to the thread pool so that one slow decode does not
#: hold up other requests
INLINE_UPLOAD = 256 * 1024
#: ``tinyann serve --workers N``: the environment variable that carries the options to
#: each worker process, and the factory the processes call
OPTIONS_VARIABLE = "TINYANN_SERVE_OPTIONS"
FACTORY = "tinyann.app.server:app_from_environment"


_FILE_HELP = f"a photo: PNG, JPEG, GIF, WebP, BMP or TIFF, at most {MAX_UPLOAD} bytes"


class ClassProbability(BaseModel):
    label: int
    name: str
    name_ko: str
    probability: float


class Prediction(BaseModel):
    label: int
    name: str
    name_ko: str
    probability: float
    probabilities: list[ClassProbability]
    input_png: str
    true_label: int | None = None
    milliseconds: float


class Health(BaseModel):
    status: str
    model: str
    input_shape: list[int | None]
    classes: list[str]
    classes_ko: list[str]
    image_size: list[int]
    color_mode: str
    test_images: int
    test_images_source: str
    test_accuracy: float | None


class Confusion(BaseModel):
    classes: list[str]
    matrix: list[list[int]]
    accuracy: float | None


class TestImage(BaseModel):
    index: int
    label: int
    predicted: int
    probability: float


class TestImages(BaseModel):
    total: int
    offset: int
    items: list[TestImage]


class Error(BaseModel):
    detail: str


class _UploadLimit:
    """ASGI: a POST body over ``limit`` bytes gets 413 and never reaches the app; smaller
    bodies are buffered and replayed, or, for a path in ``fast`` (a plain upload to
    /api/predict), answered by its handler when it takes the body: it returns the JSON
    body of a 200 answer (bytes), another response, or None to leave it to the app."""

    def __init__(self, app, limit, fast=None):
        self.app = app
        self.limit = limit
        self.fast = fast or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        too_large = declared is not None and declared.isdigit() and int(declared) > self.limit
        chunks, size, more = [], 0, True
        while more and not too_large:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            too_large = size > self.limit
        if too_large:
            drained = size
            while more and drained < _DRAIN_LIMIT:  # let the client finish sending
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                drained += len(message.get("body", b""))
                more = message.get("more_body", False)
            detail = (f"the upload is larger than {self.limit - _FRAMING} bytes; send a "
                      "smaller image")
            response = JSONResponse({"detail": detail}, status_code=413,
                                    headers={"Connection": "close"})
            return await response(scope, receive, send)
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        handler = self.fast.get(scope["path"])
        if handler is not None:
            answer = await handler(headers, body)
            if isinstance(answer, bytes):
                # what Response(answer, media_type="application/json") sends, directly
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-length", b"%d" % len(answer)),
                                        (b"content-type", b"application/json")]})
                return await send({"type": "http.response.body", "body": answer})
            if answer is not None:
                return await answer(scope, receive, send)
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


class _App(FastAPI):
    """FastAPI with POSTs taken first by :class:`_UploadLimit` (``uploads``), outside
    FastAPI's own layers: a plain upload to /api/predict is answered without its
    routing, middleware and telemetry hooks (about 0.04 ms of a request's 0.45), and
    everything else reaches FastAPI as before."""

    uploads = None

    async def __call__(self, scope, receive, send):
        if self.uploads is not None and scope["type"] == "http":
            return await self.uploads(scope, receive, send)
        return await super().__call__(scope, receive, send)

    async def _inner(self, scope, receive, send):
        """FastAPI's own handling, behind ``uploads``."""
        return await super().__call__(scope, receive, send)


class _State:
    """The model, its classes and the test set's predictions, computed once at start-up.

    The classes come from the model (its output units; names from the run, see
    ``runs.class_names``). Test images whose labels the model has no class for are
    left out, so a model of other classes still serves ``/api/predict``.
    """

    def __init__(self, run, images, labels):
        self.run = run
        self.model = run.model
        self.spec = run.spec
        self.names, self.names_ko = runs.class_names(run)
        k = len(self.names)
        images, labels = np.asarray(images), np.asarray(labels, dtype=np.int64)
        if len(labels) and labels.max() >= k:
            images, labels = images[:0], labels[:0]
        self.images, self.labels = images, labels
        if len(self.images):
            probs = runs.predict_proba(self.model, self.images)
        else:
            probs = np.zeros((0, k), dtype=np.float32)
        self.probs = probs
        self.predicted = probs.argmax(axis=1) if len(probs) else np.zeros(0, dtype=np.int64)
        self.matrix = runs.confusion(self.labels, self.predicted, k)
        self.accuracy = float(np.mean(self.predicted == self.labels)) if len(probs) else None
        # the JSON of each class up to its probability, as JSONResponse would write it
        dumps = functools.partial(json.dumps, ensure_ascii=False)
        self.class_json = [f'{{"label":{i},"name":{dumps(name)},"name_ko":{dumps(name_ko)},'
                           '"probability":' for i, (name, name_ko) in
                           enumerate(zip(self.names, self.names_ko))]

    def classify(self, image28, true_label=None, started=None) -> dict:
        # no lock: Model.predict_on_batch is safe to call from several threads
        probs = runs.predict_proba(self.model, image28[None])[0]
        best = int(np.argmax(probs))
        png = base64.b64encode(preprocess.to_png(image28)).decode("ascii")
        return {
            "label": best, "name": self.names[best], "name_ko": self.names_ko[best],
            "probability": float(probs[best]),
            "probabilities": [{"label": i, "name": self.names[i],
                               "name_ko": self.names_ko[i], "probability": float(p)}
                              for i, p in enumerate(probs)],
            "input_png": "data:image/png;base64," + png,
            "true_label": true_label,
            "milliseconds": (time.perf_counter() - started) * 1000 if started else 0.0,
        }

    def answer(self, image28, started: float) -> bytes:
        """``classify``'s answer as the JSON body ``JSONResponse`` would make of it, the
        same bytes, written from the pieces made at start-up (a third of the cost)."""
        probs = runs.predict_proba(self.model, image28[None])[0]
        if not np.isfinite(probs).all():  # JSONResponse refuses NaN: keep its error
            return JSONResponse(self.classify(image28, started=started)).body
        best = int(np.argmax(probs))
        values = probs.tolist()  # the Python floats float(p) gives; JSON writes their repr
        png = base64.b64encode(preprocess.to_png(image28)).decode("ascii")
        classes = ",".join([f"{head}{value!r}}}" for head, value in zip(self.class_json, values)])
        milliseconds = (time.perf_counter() - started) * 1000
        return (f'{self.class_json[best]}{values[best]!r},"probabilities":[{classes}],'
                f'"input_png":"data:image/png;base64,{png}","true_label":null,'
                f'"milliseconds":{milliseconds!r}}}').encode()

    def classify_upload(self, data: bytes, started: float) -> bytes:
        """Decodes and classifies one uploaded photo: the answer's JSON body."""
        try:
            item = self.prepare(data)
        except preprocess.ImageTooLarge as error:
            raise HTTPException(413, str(error)) from None
        except preprocess.ImageError as error:
            raise HTTPException(400, str(error)) from None
        return self.answer(item.image, started)

    def prepare(self, data: bytes):
        """An upload -> the model's input (``.image``): Fashion-MNIST's pipeline, or
        resized to the input of a run trained on image folders."""
        if self.spec is None:
            return preprocess.preprocess(data)
        return resize.prepare(data, self.spec)

    def input_description(self) -> tuple[list, str]:
        """([height, width], 'grayscale' or 'rgb') of the images the model takes."""
        if self.spec is None:
            return [preprocess.SIZE, preprocess.SIZE], "grayscale"
        return list(self.spec.image_size), self.spec.color_mode


def default_test_data(run, data_dir=None) -> tuple:
    """(images, labels, where they come from) to browse: Fashion-MNIST's test split, or
    the held-out images of a run trained on image folders (empty when not stored)."""
    spec = run.spec
    if spec is None:
        images, labels = runs.load_split("test", data_dir)
        return images, labels, "the Fashion-MNIST test set"
    stored = runs.load_images(run.folder)
    if stored is None:
        shape = (0, *spec.image_size) + ((3,) if spec.color_mode == "rgb" else ())
        return (np.zeros(shape, dtype=np.uint8), np.zeros(0, dtype=np.int64),
                f"none: the run has no {runs.IMAGES_FILE} (trained before it was written, "
                "or a bare model file)")
    return (stored["test_images"], stored["test_labels"],
            f"the run's held-out test images ({runs.IMAGES_FILE})")


def create_app(source, data_dir=None, test_data=None) -> FastAPI:
    """The ASGI app for a run folder, a model file or a loaded :class:`runs.Run`.

    Args:
        source: path or ``runs.Run``.
        data_dir: where Fashion-MNIST is (default: the usual places).
        test_data: (images uint8 (N, 28, 28), labels) instead of the test split (for
            a run trained on image folders: (N, H, W[, 3])).
    """
    run = source if isinstance(source, runs.Run) else runs.load_run(source)
    if test_data is None:
        images, labels, where = default_test_data(run, data_dir)
    else:
        (images, labels), where = test_data, "given to the server"
    state = _State(run, images, labels)
    if not len(labels):
        where = where if where.startswith("none") else "none: no test images were given"
    elif not len(state.labels):
        where = f"none: the model has no class for the labels of {where}"
    state.test_source = where
    image_size, color_mode = state.input_description()
    top = len(state.names) - 1  # the highest class label
    bad = {400: {"model": Error, "description": "not a usable image"},
           413: {"model": Error, "description": f"larger than {MAX_UPLOAD} bytes"}}
    about = ("Classify photos of clothes with a tinyann model trained on Fashion-MNIST."
             if state.spec is None else "Classify pictures into "
             f"{', '.join(state.names)} with a tinyann model trained on image folders.")
    app = _App(title="tinyann", version=_version(), description=about)
    app.state.tinyann = state
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(os.path.join(STATIC, "index.html"))

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return Response(status_code=204)

    @app.get("/api/health", response_model=Health)
    def health():
        """Whether the server is up, and which model it serves."""
        return {"status": "ok", "model": run.name,
                "input_shape": list(state.model.input_shape),
                "classes": state.names, "classes_ko": state.names_ko,
                "image_size": image_size, "color_mode": color_mode,
                "test_images": int(len(state.labels)), "test_images_source": where,
                "test_accuracy": state.accuracy}

    async def classify(data, started):
        """Small uploads on the event loop, bigger ones in the thread pool
        (:data:`INLINE_UPLOAD`)."""
        if len(data) <= INLINE_UPLOAD:
            return state.classify_upload(data, started)
        return await run_in_threadpool(state.classify_upload, data, started)

    @app.post("/api/predict", response_model=Prediction, responses=bad)
    async def predict(file: Annotated[UploadFile, File(description=_FILE_HELP)]):
        """Classifies one photo; returns every class's probability and the model's input."""
        started = time.perf_counter()
        data = await file.read(MAX_UPLOAD + 1)
        # our own JSON, not re-validated against the schema, which still documents it
        return _JSON(await classify(data, started))

    @app.get("/api/confusion", response_model=Confusion)
    def confusion():
        """The test set's confusion matrix: rows true class, columns predicted."""
        return {"classes": state.names, "matrix": state.matrix.tolist(),
                "accuracy": state.accuracy}

    @app.get("/api/test-images", response_model=TestImages)
    def test_images(label: int | None = Query(None, ge=0, le=top, description="true class"),
                    predicted: int | None = Query(None, ge=0, le=top),
                    mistakes: bool = False, offset: int = Query(0, ge=0, le=1_000_000),
                    limit: int = Query(60, ge=1, le=500)):
        """Test images with their predictions, filtered; ``total`` counts all matches."""
        keep = np.ones(len(state.labels), dtype=bool)
        if label is not None:
            keep &= state.labels == label
        if predicted is not None:
            keep &= state.predicted == predicted
        if mistakes:
            keep &= state.labels != state.predicted
        found = np.flatnonzero(keep)
        page = found[offset:offset + limit]
        return {"total": int(len(found)), "offset": offset,
                "items": [{"index": int(i), "label": int(state.labels[i]),
                           "predicted": int(state.predicted[i]),
                           "probability": float(state.probs[i, state.predicted[i]])}
                          for i in page]}

    def _index(index):
        if not 0 <= index < len(state.labels):
            raise HTTPException(404, f"there is no test image {index}; expected an index "
                                f"in [0, {len(state.labels)})")
        return index

    not_found = {404: {"model": Error, "description": "no such test image"}}

    @app.get("/api/test-images/{index}", response_model=Prediction, responses=not_found)
    def test_image(index: int = Path(..., ge=0)):
        """One test image's prediction, as /api/predict gives it."""
        i = _index(index)
        image = state.images[i].astype(np.float32) / 255.0
        return state.classify(image, true_label=int(state.labels[i]),
                              started=time.perf_counter())

    @app.get("/api/test-images/{index}/image.png", response_class=Response,
             responses={200: {"content": {"image/png": {}}}, **not_found})
    def test_image_png(index: int = Path(..., ge=0)):
        """The test image as a PNG (28x28 grey, or the run's size and colour)."""
        png = preprocess.to_png(state.images[_index(index)])
        return Response(png, media_type="image/png",
                        headers={"Cache-Control": "max-age=3600"})

    async def fast_predict(headers, body):
        """/api/predict for the plain upload form (tinyann/app/multipart.py), without
        FastAPI's form parsing; None leaves the request to the route above."""
        data = multipart.file_field(headers.get(b"content-type", b""), body)
        if data is None or len(data) > MAX_UPLOAD:
            return None
        try:
            return await classify(data, time.perf_counter())
        except HTTPException as error:
            return JSONResponse({"detail": error.detail}, status_code=error.status_code)

    app.uploads = _UploadLimit(app._inner, limit=MAX_UPLOAD + _FRAMING,
                               fast={"/api/predict": fast_predict})
    return app


class _JSON(Response):
    """A JSON body already encoded (``_State.answer``)."""

    media_type = "application/json"


@dataclass
class ServeOptions:
    """What ``tinyann serve`` serves: a run folder or model file, where Fashion-MNIST is,
    and whether to load its test images for browsing."""

    source: str
    data_dir: str | None = None
    test_images: bool = True

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def default_workers() -> int:
    """One server process per CPU core this process may use, at most 4: each holds a
    copy of the model and, with Python's GIL, uses one core."""
    from tinyann.kernels.cores import usable_cores

    return max(1, min(4, usable_cores()))


def app_for(options: ServeOptions) -> FastAPI:
    """The app for ``options``; raises OSError when the test images are not found."""
    run = runs.load_run(options.source)
    test_data = None  # an image-folder run's own held-out images (default_test_data)
    if not options.test_images:
        test_data = (np.zeros((0, 28, 28), dtype=np.uint8), np.zeros(0, dtype=np.uint8))
    elif run.spec is None:
        test_data = runs.load_split("test", options.data_dir)
    return create_app(run, test_data=test_data)


def app_from_environment() -> FastAPI:
    """The factory each ``tinyann serve --workers N`` process calls."""
    text = os.environ.get(OPTIONS_VARIABLE)
    if not text:
        raise RuntimeError(f"{OPTIONS_VARIABLE} is not set; expected the JSON options "
                           "`tinyann serve` writes for its worker processes")
    app = app_for(ServeOptions(**json.loads(text)))
    warm_up()
    return app


def warm_up() -> None:
    """Readies a process that will serve: the PNG decoder's and the preprocessing's
    compiled loops, so that the first upload does not wait for them (not in ``tinyann
    serve``'s parent process, which only supervises its workers: numba costs about 170
    MB of memory a process), then :func:`settle`."""
    from tinyann.app import plain, png

    png.warm_up()
    if png.available():  # plain PNGs take the compiled steps only with its decoder
        plain.warm_up()
    settle()


def settle() -> None:
    """Collects the start-up's garbage and freezes what is left (``gc.freeze``): the
    collector's full passes then skip the ~160,000 objects of FastAPI, NumPy, numba and
    the model. Such a pass came once in the first few thousand requests and took 70 ms,
    a pause that every request queued behind it waited out (a 200-at-once round lasts
    about 50 ms). Requests leave few objects behind for the collector, so its passes
    over what is not frozen stay short."""
    gc.collect()
    gc.freeze()


def _version():
    import tinyann

    return tinyann.__version__
