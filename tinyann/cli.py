"""The ``tinyann`` command: data, train, evaluate, predict, report, baseline, serve,
run, jupyter.

Every failure a user can cause prints ``tinyann: error: <message>`` and exits with
status 2; no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from tinyann.app import UsageError

EPILOG = """examples:
  tinyann data                      where Fashion-MNIST comes from
  tinyann data --verify             re-check the SHA-256 of every file
  tinyann data --fetch imdb         IMDB reviews for chapter 9 (Keras's files)
  tinyann data --synthetic imdb     IMDB-shaped synthetic reviews in $TINYANN_DATA_DIR/imdb
  tinyann train                     the seeds' model, 5 epochs, into runs/<time>
  tinyann train --model mlp --optimizer adam --epochs 10 --out runs/mlp
  tinyann train --data photos/ --image-size 64 64 --out runs/mine
                                    your pictures, a subfolder per class
  tinyann report runs/mlp            rewrite runs/mlp/report.html (open it in a browser)
  tinyann evaluate runs/mlp --split val
  tinyann predict runs/mlp shirt.jpg shoe.png --top 3 --lang ko
  tinyann baseline --out runs/mlp    the seeds' logistic-regression baseline
  tinyann serve runs/mlp             a web page on http://127.0.0.1:8000
  tinyann run seed.py                a Keras script, unchanged, on tinyann
  tinyann run 7-1.ipynb              a notebook, cell by cell (writes 7-1.tinyann.ipynb)
  tinyann jupyter install --user     the 'Python 3 (tinyann)' kernel for JupyterLab
"""


class _Parser(argparse.ArgumentParser):
    """argparse with the one-line ``tinyann: error: ...`` that every command uses."""

    def error(self, message):
        hint = f" (see `{self.prog} --help`)"
        self.exit(2, f"tinyann: error: {message}{hint}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tinyann", description="Keras-compatible neural networks on NumPy.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="store_true", help="print the version")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    data = sub.add_parser("data", help="where Fashion-MNIST comes from; fetch or verify it")
    data.add_argument("--verify", action="store_true", help="hash every file again")
    data.add_argument("--fetch", nargs="?", const="fashion-mnist",
                      choices=("fashion-mnist", "imdb"),
                      help="make sure a dataset is available, downloading it if nowhere "
                           "else (default fashion-mnist; `--fetch imdb` for chapter 9)")
    data.add_argument("--synthetic", choices=("imdb",),
                      help="write synthetic IMDB-shaped reviews into $TINYANN_DATA_DIR/imdb "
                           "(or --dir), where imdb.load_data reads them")
    data.add_argument("--dir", help="with --synthetic: the folder to write into")
    data.add_argument("--path", help="a directory holding the four IDX files")

    train = sub.add_parser("train", help="train on Fashion-MNIST or your image folders, "
                           "and save the run",
                           description="Trains on Fashion-MNIST with the seeds' split "
                           "(train_test_split(test_size=0.2, random_state=42)), prints "
                           "validation and test accuracy and saves the run folder. With "
                           "--data DIR: trains on your own pictures, a subfolder of DIR per "
                           "class, resized to --image-size.")
    train.add_argument("--model", choices=["linear", "mlp", "cnn"], default=None,
                       help="linear (default): Input(784) -> Dense(10, softmax), the seeds' "
                       "model; mlp: Flatten -> Dense(100, relu) -> Dense(10, softmax); "
                       "cnn: the textbook's Conv2D(32)-pool-Conv2D(64)-pool-Dense(100)-"
                       "Dropout(0.4)-Dense(10) (needs tinyann.layers.Conv2D). With --data: "
                       "cnn (default) is Conv2D(16)-pool-Conv2D(32)-pool-Dense(64)-"
                       "Dropout(0.3)-Dense(classes)")
    train.add_argument("--epochs", type=_positive_int, default=5)
    train.add_argument("--batch-size", type=_positive_int, default=32)
    train.add_argument("--optimizer", default=None,
                       help="sgd, rmsprop, adam, adagrad... (default: rmsprop for linear, "
                       "adam for mlp and cnn, and with --data)")
    train.add_argument("--learning-rate", type=_positive_float, default=None)
    train.add_argument("--seed", type=int, default=42)
    train.add_argument("--out", default=None, help="run folder (default: runs/<model>-<time>, "
                       "with --data runs/<DIR's name>-<model>-<time>)")
    train.add_argument("--data-dir", default=None, help="a directory with the IDX files")
    train.add_argument("--verbose", type=int, choices=[0, 1, 2], default=None,
                       help="progress output (default: Keras's 'auto')")
    train.add_argument("--no-report", action="store_true",
                       help="skip writing report.html into the run folder")
    mine = train.add_argument_group("your own pictures")
    mine.add_argument("--data", metavar="DIR", default=None,
                      help="a folder with one subfolder of pictures per class (JPEG, PNG, "
                      "BMP, GIF; any size and colour); the subfolders' names are the classes")
    mine.add_argument("--image-size", type=_positive_int, nargs=2, metavar=("HEIGHT", "WIDTH"),
                      default=None, help="the size pictures are resized to (default 64 64)")
    mine.add_argument("--color-mode", choices=["rgb", "grayscale"], default=None,
                      help="rgb (default) or grayscale")
    mine.add_argument("--validation-split", type=_fraction, default=None,
                      help="the fraction of each class held out for validation (default 0.2)")
    mine.add_argument("--test-split", type=_fraction, default=None,
                      help="the fraction of each class held out for the test (default 0.2)")
    run = sub.add_parser(
        "run", help="run a Keras / tf.keras script or notebook unchanged, on tinyann",
        description="Runs SCRIPT as __main__ with `keras`, `tensorflow` and `tensorflow.keras` "
        "served by tinyann for this run only. plt.show() saves each figure as "
        "<script>-figure-<n>.png instead of opening a window. A notebook (.ipynb) runs "
        "cell by cell in a tinyann Jupyter kernel (needs tinyann[notebook]); its outputs "
        "show as they come and the executed notebook is written to NAME.tinyann.ipynb.")
    run.add_argument("--plots-dir", default=None,
                     help="where plt.show() saves figures (default: the current folder)")
    run.add_argument("--seed", type=int, default=None,
                     help="keras.utils.set_random_seed(SEED) before the script starts")
    _add_notebook_options(run)
    run.add_argument("script", help="the Python script or Jupyter notebook to run")
    run.add_argument("args", nargs=argparse.REMAINDER,
                     help="arguments passed to the script (for a notebook: its options)")
    jupyter = sub.add_parser(
        "jupyter", help="install or remove the tinyann Jupyter kernel",
        description="Installs the kernelspec 'Python 3 (tinyann)': ipykernel with keras and "
        "tensorflow served by tinyann, for JupyterLab and Notebook. Default place: this "
        "Python's prefix (PREFIX/share/jupyter/kernels); --user: your Jupyter data folder "
        "($JUPYTER_DATA_DIR if set).")
    jupyter.add_argument("action", choices=["install", "uninstall"])
    jupyter.add_argument("--user", action="store_true", help="your Jupyter data folder")
    jupyter.add_argument("--prefix", default=None, help="PREFIX/share/jupyter/kernels")
    jupyter.add_argument("--name", default="tinyann", help="the kernel's name (default: tinyann)")
    jupyter.add_argument("--display-name", default=None,
                         help="the name shown in Jupyter (default: 'Python 3 (tinyann)')")
    from tinyann.app.commands import add_parsers

    add_parsers(sub)
    return parser


def _positive(text, convert, expected):
    """``convert(text)`` when it is > 0, else argparse's error saying ``expected``."""
    try:
        value = convert(text)
    except ValueError:
        value = None
    if value is None or not value > 0:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def _positive_int(text):
    return _positive(text, int, "a positive integer")


def _positive_float(text):
    return _positive(text, float, "a positive number")


def _fraction(text):
    """A held-out fraction: a number in (0, 0.5)."""
    value = _positive(text, float, "a fraction between 0 and 0.5")
    if not value < 0.5:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 0.5, got {text!r}")
    return value


# ---------------------------------------------------------------------- data
def cmd_data(args) -> int:
    from tinyann import kernels
    from tinyann.datasets import fashion_mnist

    if args.synthetic or args.fetch == "imdb":
        return _imdb_data(args)
    print(fashion_mnist.describe_sources(args.path))
    print(kernels.describe())
    if args.fetch:
        (x, y), (xt, yt) = fashion_mnist.load_data(path=args.path)
        print(f"Fashion-MNIST ready: {len(x)} training and {len(xt)} test images.")
    if args.verify:
        checks = fashion_mnist.verify(args.path)
        bad = 0
        for check in checks:
            status = "ok" if check.ok else "MISMATCH"
            print(f"  {status:8s} {check.name}  sha256 {check.actual}  ({check.path})")
            bad += not check.ok
        if bad:
            raise UsageError(f"{bad} file(s) failed the SHA-256 check; delete them and run "
                             "`tinyann data --fetch` again")
    return 0


def _imdb_data(args) -> int:
    from tinyann.datasets import imdb, synthetic_imdb

    if args.synthetic:
        try:
            path = synthetic_imdb.write(args.dir)
        except (ValueError, OSError) as error:
            raise UsageError(str(error)) from None
        print(f"Synthetic IMDB reviews written: {path} (read by imdb.load_data when "
              "TINYANN_DATA_DIR points at its parent's parent)")
        return 0
    (x, _), (xt, _) = imdb.load_data(path=args.path or "imdb.npz")
    imdb.get_word_index()
    print(f"IMDB ready: {len(x)} training and {len(xt)} test reviews, and the word index.")
    return 0


# ---------------------------------------------------------------------- train
def build_model(kind, keras):
    if kind == "cnn":
        from tinyann.app.commands import build_cnn

        return build_cnn(keras)
    if kind == "linear":
        return keras.Sequential([keras.Input((784,)),
                                 keras.layers.Dense(10, activation="softmax")])
    return keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                             keras.layers.Dense(100, activation="relu"),
                             keras.layers.Dense(10, activation="softmax")])


def prepare_training(kind, seed=42, optimizer=None, learning_rate=None, data_dir=None):
    """What ``tinyann train`` trains, compiled and ready to fit (also for
    benchmarks/cli_recipe.py): ``(model, optimizer name, (x_tr, y_tr), (x_val, y_val),
    (x_test, y_test))``, the images scaled to [0, 1] in the model's input shape."""
    import tinyann as keras
    from tinyann.datasets import fashion_mnist

    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(path=data_dir)
    x_train = x_train / 255.0
    x_test = x_test / 255.0
    if kind == "linear":
        x_train = x_train.reshape(-1, 784)
        x_test = x_test.reshape(-1, 784)
    elif kind == "cnn":
        x_train = x_train.reshape(-1, 28, 28, 1)
        x_test = x_test.reshape(-1, 28, 28, 1)
    x_tr, x_val, y_tr, y_val = split(x_train, y_train, test_size=0.2, random_state=42)

    model = build_model(kind, keras)
    name = optimizer or ("rmsprop" if kind == "linear" else "adam")
    chosen = keras.optimizers.get(name)
    if learning_rate is not None:
        chosen.learning_rate = learning_rate
    model.compile(optimizer=chosen, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, name, (x_tr, y_tr), (x_val, y_val), (x_test, y_test)


def cmd_train(args) -> int:
    from tinyann.app import train_folders

    train_folders.check_options(args)
    if args.data is not None:
        return train_folders.train(args)
    args.model = args.model or "linear"
    model, name, train, val, test = prepare_training(
        args.model, args.seed, args.optimizer, args.learning_rate, args.data_dir)
    out = args.out or os.path.join("runs", f"{args.model}-{time.strftime('%Y%m%d-%H%M%S')}")
    from tinyann.app.runs import fit_and_save

    model, out, metrics, history = fit_and_save(args, model, name, train, val, test,
                                                args.model, out)
    if not args.no_report:
        from tinyann.app.commands import report_after_training

        report_after_training(model, out, metrics, history, args.data_dir)
    return 0


def split(x, y, test_size, random_state):
    """scikit-learn's train_test_split when installed (the seeds' exact split)."""
    try:
        from sklearn.model_selection import train_test_split
    except ImportError as error:
        raise UsageError("scikit-learn is needed for the seeds' split: "
                         "pip install 'tinyann[app]'") from error
    return train_test_split(x, y, test_size=test_size, random_state=random_state)


# ---------------------------------------------------------------------- run
def _add_notebook_options(parser):
    parser.add_argument("--output", default=None,
                        help="notebook only: where to write the executed notebook "
                        "(default: NAME.tinyann.ipynb in the current folder)")
    parser.add_argument("--allow-errors", action="store_true",
                        help="notebook only: go on after a failing cell")
    parser.add_argument("--timeout", type=_positive_int, default=None,
                        help="notebook only: seconds a cell may run (default: no limit)")


def cmd_run(args) -> int:
    """The script's exit status: 0, its sys.exit code, or 1 after its traceback; for a
    notebook, 0 or 1 when a cell failed."""
    from tinyann.runner.notebook import looks_like_notebook

    if looks_like_notebook(args.script):
        return _run_notebook(args)
    given = [f"--{n.replace('_', '-')}" for n in ("output", "allow_errors", "timeout")
             if getattr(args, n) not in (None, False)]
    if given:
        raise UsageError(f"{', '.join(given)}: only for notebooks (.ipynb); "
                         f"{args.script} is a script")
    from tinyann.runner import script

    return script.main(args.script, args.args, plots_dir=args.plots_dir, seed=args.seed)


def _run_notebook(args) -> int:
    # a notebook takes no arguments: what follows its name are tinyann run's options
    extra = _Parser(prog="tinyann run NOTEBOOK")
    _add_notebook_options(extra)
    more = extra.parse_args(args.args)
    for name in ("output", "allow_errors", "timeout"):
        if getattr(more, name) not in (None, False):
            setattr(args, name, getattr(more, name))
    if args.seed is not None or args.plots_dir is not None:
        raise UsageError("--seed and --plots-dir are for scripts; a notebook seeds itself "
                         "and draws its plots inline")
    from tinyann.runner.notebook import run_notebook

    return run_notebook(args.script, output=args.output, allow_errors=args.allow_errors,
                        timeout=args.timeout)


# ---------------------------------------------------------------------- jupyter
def cmd_jupyter(args) -> int:
    from tinyann.runner import kernelspec

    if args.action == "uninstall":
        folder = kernelspec.uninstall(args.name, user=args.user, prefix=args.prefix)
        print(f"removed the kernel {args.name!r} ({folder})")
        return 0
    from tinyann.runner.notebook import INSTALL_HINT, missing_packages

    missing = missing_packages()
    if missing:
        raise UsageError(f"the tinyann kernel needs {', '.join(missing)}: {INSTALL_HINT}")
    folder = kernelspec.install(args.name, user=args.user, prefix=args.prefix,
                                display_name=args.display_name or kernelspec.DISPLAY_NAME)
    print(f"installed the kernel {args.name!r} "
          f"({args.display_name or kernelspec.DISPLAY_NAME}) in {folder}")
    return 0


# ---------------------------------------------------------------------- app
def cmd_app(args) -> int:
    """evaluate, predict, report, baseline, serve: in tinyann.app.commands."""
    from tinyann.app import commands

    return commands.COMMANDS[args.command](args)


# ---------------------------------------------------------------------- main
COMMANDS = {"data": cmd_data, "train": cmd_train, "evaluate": cmd_app, "predict": cmd_app,
            "report": cmd_app, "baseline": cmd_app, "serve": cmd_app, "run": cmd_run,
            "jupyter": cmd_jupyter}


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        import tinyann

        print(f"tinyann {tinyann.__version__}")
        return 0
    if not args.command:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("tinyann: interrupted", file=sys.stderr)
        return 130
    except (UsageError, ValueError, OSError, NotImplementedError) as error:
        message = str(error).strip().replace("\n", " ") or type(error).__name__
        print(f"tinyann: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
