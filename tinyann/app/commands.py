"""The app's subcommands of ``tinyann``: evaluate, predict, report, baseline, serve.

``tinyann.cli`` owns the parser and the error handling (``tinyann: error: ...``,
exit status 2); this module adds the subparsers and does the work.
"""

from __future__ import annotations

import json
import os
import time

from tinyann.app.labels import LANGUAGES

SEEDS_BASELINE = 0.8194


def _usage_error(message):
    from tinyann.app import UsageError

    return UsageError(message)


def _int_in_range(text, low, high, expected):
    """``text`` as an int in ``[low, high]``, else argparse's error saying ``expected``."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _top(text):
    return _int_in_range(text, 1, 10, "an integer from 1 to 10")


def _port(text):
    return _int_in_range(text, 0, 65535, "a port number 0-65535")


def _workers(text):
    return _int_in_range(text, 1, 64, "a number of processes from 1 to 64")


def _run_parser(sub, name, help, description):
    """A subcommand whose first argument is RUN_OR_MODEL."""
    parser = sub.add_parser(name, help=help, description=description)
    parser.add_argument("run", metavar="RUN_OR_MODEL")
    return parser


def add_parsers(sub) -> None:
    """Adds the app's subcommands to ``tinyann``'s subparsers."""
    data_help = "a directory with the Fashion-MNIST IDX files"
    report = sub.add_parser("report", help="write a run's self-contained HTML report",
                            description="Writes RUN/report.html: samples, class counts, "
                            "learning curves, confusion matrix, per-class accuracy, worst "
                            "mistakes, what the network learned, settings and timings.")
    report.add_argument("run", metavar="RUN", help="a run folder made by `tinyann train`")
    report.add_argument("--out", help="where to write the HTML (default: RUN/report.html)")
    report.add_argument("--data-dir", help=data_help)

    evaluate = _run_parser(sub, "evaluate", "loss, accuracy and per-class report",
                           "Loss, accuracy, scikit-learn's per-class precision and recall, "
                           "and the most confused pairs.")
    evaluate.add_argument("--split", choices=["val", "test"], default="test",
                          help="val: the seeds' 20%% validation split; test: the 10000 "
                          "test images (default; for a run trained with --data DIR, its "
                          "held-out test images)")
    evaluate.add_argument("--data-dir", help=data_help)

    predict = _run_parser(sub, "predict", "classify your own photos",
                          "Classifies photos of any size and colour: for a Fashion-MNIST "
                          "model they are turned grey, light-on-dark, cropped to the item and "
                          "fitted into 28x28 as Fashion-MNIST was made; for a run trained with "
                          "--data DIR they are resized to its image size and colour mode.")
    predict.add_argument("images", metavar="IMAGE", nargs="+")
    predict.add_argument("--top", type=_top, default=3, help="how many classes (default 3)")
    predict.add_argument("--json", action="store_true", help="print JSON")
    predict.add_argument("--lang", choices=sorted(LANGUAGES), default="en",
                         help="class names in English or Korean")
    predict.add_argument("--show-input", nargs="?", const=".", metavar="DIR",
                         help="save the image the model saw as DIR/<name>-<H>x<W>.png")

    baseline = sub.add_parser("baseline", help="the seeds' logistic-regression baseline",
                              description="SGDClassifier(loss='log_loss', max_iter=5, "
                              "random_state=42), 5-fold cross_validate on the scaled "
                              "training set, as the seeds (who print 0.8194).")
    baseline.add_argument("--out", metavar="RUN",
                          help="also save baseline.json in this run folder for its report")
    baseline.add_argument("--data-dir", help=data_help)

    serve = _run_parser(sub, "serve", "a web page and JSON API for a model",
                        "Serves a page to drop or draw an item and see the model's answer, "
                        "and to browse the test images (a run trained with --data DIR: its "
                        "held-out ones); JSON API at /api/predict, schema at /openapi.json.")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument("--data-dir", help=data_help)
    serve.add_argument("--no-test-images", action="store_true",
                       help="serve predictions only, without browsing the test images")
    serve.add_argument("--workers", type=_workers, default=0,
                       help="server processes, each with its own copy of the model "
                       "(default: one per CPU core, at most 4)")
    serve.add_argument("--access-log", action="store_true",
                       help="print a line for every request (off by default: at a few "
                       "hundred requests a second the logging costs a tenth of the CPU)")


def build_cnn(keras):
    """The textbook's CNN for Fashion-MNIST (input (28, 28, 1))."""
    layers = keras.layers
    if not hasattr(layers, "Conv2D") or not hasattr(layers, "MaxPooling2D"):
        raise _usage_error("--model cnn needs tinyann.layers.Conv2D and MaxPooling2D, which "
                           "this version of tinyann does not have yet; use linear or mlp")
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, kernel_size=3, activation="relu", padding="same"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu", padding="same"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(100, activation="relu"),
        layers.Dropout(0.4),
        layers.Dense(10, activation="softmax"),
    ])


def report_after_training(model, folder, metrics, history, data_dir=None) -> str:
    """Writes folder/report.html for a model just trained (no reload needed)."""
    from tinyann.app import report, runs

    run = runs.Run(model=model, model_path=os.path.join(folder, runs.MODEL_FILE),
                   folder=folder, metrics=metrics, history=history)
    path = report.write_run_report(run, data_dir)
    print(f"wrote the report {path}")
    return path


def cmd_report(args) -> int:
    from tinyann.app import report

    if not os.path.isdir(args.run):
        raise _usage_error(f"{args.run} is not a folder; expected a run folder made by "
                           "`tinyann train`")
    print(f"wrote the report {report.write_report(args.run, args.data_dir, args.out)}")
    return 0


def cmd_evaluate(args) -> int:
    import numpy as np

    from tinyann.app import runs
    from tinyann.app.labels import CLASS_NAMES_EN

    # a Fashion-MNIST model is scored on its 10 classes; an image-folder run on its own
    run = runs.load_run(args.run, classes=10)
    names = CLASS_NAMES_EN
    if run.spec is None:
        x, y = runs.load_split(args.split, args.data_dir)
    else:
        names = runs.class_names(run)[0]
        x, y = _held_out(run, args.split)
    start = time.perf_counter()
    probs = runs.predict_proba(run.model, x)
    seconds = time.perf_counter() - start
    pred = probs.argmax(axis=1)
    print(f"{run.model_path} on the {args.split} split ({len(y)} images, "
          f"{seconds:.2f} s)")
    print(f"loss: {runs.cross_entropy(probs, y):.4f} - accuracy: {np.mean(pred == y):.4f}")
    print()
    from sklearn.metrics import classification_report

    print(classification_report(y, pred, labels=list(range(len(names))),
                                target_names=list(names), digits=4, zero_division=0))
    print("most confused pairs (true -> predicted: images):")
    for count, true, predicted, _, _ in runs.most_confused(
            runs.confusion(y, pred, len(names)), names):
        print(f"  {true:>11s} -> {predicted:<11s} {count}")
    return 0


def _held_out(run, split):
    """(images, labels) of the held-out test images of a run trained on image folders."""
    from tinyann.app import runs

    if split != "test":
        raise _usage_error(f"--split {split}: {run.folder} was trained on image folders and "
                           "keeps only its held-out test images; expected --split test")
    stored = runs.load_images(run.folder)
    if stored is None:
        raise _usage_error(f"{run.folder or run.model_path} has no {runs.IMAGES_FILE}; expected "
                           "the run folder that `tinyann train --data DIR` wrote")
    return stored["test_images"], stored["test_labels"]


def _prepare_photos(run, paths, lang):
    """(class names in ``lang``, prepared photos, their input descriptions) for the run:
    the Fashion-MNIST pipeline, or resizing to an image-folder run's input."""
    from tinyann.app import preprocess, resize, runs
    from tinyann.app.labels import class_names

    spec = run.spec
    if spec is None:
        prepared = [preprocess.preprocess(path) for path in paths]
        inputs = [{"size": list(p.original_size), "mode": p.mode, "inverted": p.inverted,
                   "box": list(p.box)} for p in prepared]
        return class_names(lang), prepared, inputs
    english, korean = runs.class_names(run)
    prepared = [resize.prepare(path, spec) for path in paths]
    inputs = [{"size": list(p.original_size), "mode": p.mode,
               "resized_to": list(spec.image_size), "color_mode": spec.color_mode}
              for p in prepared]
    return (korean if lang == "ko" else english), prepared, inputs


def cmd_predict(args) -> int:
    import numpy as np

    from tinyann.app import preprocess, runs
    from tinyann.utils.files import atomic_write_bytes

    # a Fashion-MNIST model is named with its 10 classes; an image-folder run with its own
    run = runs.load_run(args.run, classes=10)
    names, prepared, inputs = _prepare_photos(run, args.images, args.lang)
    probs = runs.predict_proba(run.model, np.stack([p.image for p in prepared]))
    results = []
    for path, item, described, p in zip(args.images, prepared, inputs, probs):
        order = np.argsort(-p, kind="stable")[:args.top]
        result = {"image": path,
                  "top": [{"label": int(i), "class_name": names[i],
                           "probability": round(float(p[i]), 6)} for i in order],
                  "input": described}
        if args.show_input:
            os.makedirs(args.show_input, exist_ok=True)
            stem = os.path.splitext(os.path.basename(path))[0]
            height, width = item.image.shape[:2]
            saved = os.path.join(args.show_input, f"{stem}-{height}x{width}.png")
            atomic_write_bytes(saved, preprocess.to_png(item.image))
            result["input"]["saved"] = saved
        results.append(result)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
        return 0
    for result in results:
        best = result["top"][0]
        print(f"{result['image']}: {best['class_name']} ({best['probability']:.1%})")
        for rank, entry in enumerate(result["top"], 1):
            print(f"  {rank}. {entry['class_name']:<12s} {entry['probability']:7.1%}")
        if "saved" in result["input"]:
            print(f"  the model saw: {result['input']['saved']}")
    return 0


def run_baseline(data_dir=None, folds=5) -> dict:
    """The seeds' baseline: mean 5-fold accuracy of SGDClassifier on the scaled data."""
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import cross_validate

    from tinyann.datasets import fashion_mnist

    (x, y), _ = fashion_mnist.load_data(path=data_dir)
    scaled = (x / 255.0).reshape(-1, 28 * 28)
    start = time.perf_counter()
    with warnings.catch_warnings():
        # max_iter=5 never converges; the seeds accept that and so do we
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_validate(SGDClassifier(loss="log_loss", max_iter=5, random_state=42),
                                scaled, y, cv=folds, n_jobs=-1)
    return {"model": "SGDClassifier(loss='log_loss', max_iter=5, random_state=42)",
            "folds": folds, "fold_accuracy": [float(s) for s in scores["test_score"]],
            "mean_accuracy": float(np.mean(scores["test_score"])),
            "seconds": time.perf_counter() - start, "images": int(len(y))}


def cmd_baseline(args) -> int:
    if args.out and not os.path.isdir(args.out):
        raise _usage_error(f"--out {args.out} is not a folder; expected a run folder")
    result = run_baseline(args.data_dir)
    folds = " ".join(f"{s:.4f}" for s in result["fold_accuracy"])
    print(f"{result['model']}, {result['folds']}-fold cross-validation on "
          f"{result['images']} images ({result['seconds']:.1f} s)")
    print(f"fold accuracy: {folds}")
    print(f"mean accuracy: {result['mean_accuracy']:.4f} (the seeds print {SEEDS_BASELINE})")
    if args.out:
        from tinyann.utils.files import atomic_write_text

        path = os.path.join(args.out, "baseline.json")
        atomic_write_text(path, json.dumps(result, indent=2) + "\n")
        print(f"saved {path}; `tinyann report {args.out}` shows it")
    return 0


def cmd_serve(args) -> int:
    try:
        import uvicorn

        from tinyann.app import server
    except ImportError as error:
        raise _usage_error(f"serving needs FastAPI and uvicorn ({error}): "
                           "pip install 'tinyann[app]'") from None
    options = server.ServeOptions(args.run, args.data_dir, not args.no_test_images)
    try:
        app = server.app_for(options)  # loads once here, so bad input stops us early
    except OSError as error:
        raise _usage_error(f"{str(error).splitlines()[0]} (serve without browsing the "
                           "test images: --no-test-images)") from None
    workers = args.workers or server.default_workers()
    print(f"serving {args.run} on http://{args.host}:{args.port}/ with {workers} worker "
          f"process{'es' if workers > 1 else ''} (Ctrl+C stops); test images: "
          f"{app.state.tinyann.test_source}")
    # backlog: 200 users connecting at once must all be queued; a dropped SYN is retried
    # only after a second (uvicorn's default, said here because it matters)
    settings = {"host": args.host, "port": args.port, "log_level": "info",
                "access_log": args.access_log, "backlog": 2048}
    if workers == 1:
        server.warm_up()
        uvicorn.run(app, **settings)
    else:
        # each worker process builds its own app from the options in the environment
        os.environ[server.OPTIONS_VARIABLE] = options.to_json()
        uvicorn.run(server.FACTORY, factory=True, workers=workers, **settings)
    return 0


COMMANDS = {"report": cmd_report, "evaluate": cmd_evaluate, "predict": cmd_predict,
            "baseline": cmd_baseline, "serve": cmd_serve}
