"""The conformance cases: small JSON specs, made by crossing model forms, input
structures, compile forms, fit options and calls. Each has a stable id (its
fields), so a fixture answer and an entry in docs/keras_differences.md name it."""

from __future__ import annotations

import itertools
import json

SINGLE = ["seq_list", "seq_add", "seq_deferred", "functional", "subclassed"]
ACTIONS = ["evaluate", "predict", "train_on_batch", "test_on_batch", "predict_on_batch"]


def case_id(spec) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def _single():
    for model, head in itertools.product(SINGLE, ["reg", "cls"]):
        base = {"model": model, "head": head}
        xs = ["array", "list"] + (["dict"] if model == "functional" else [])
        for x, (loss, metrics) in itertools.product(xs, [("string", "string"),
                                                         ("object", "object"),
                                                         ("string", "none")]):
            spec = dict(base, x=x, compile={"loss": loss, "metrics": metrics})
            yield dict(spec, action="fit", kwargs={"epochs": 2, "shuffle": False})
            for action in ACTIONS:
                yield dict(spec, action=action,
                           **({"kwargs": {"return_dict": True}} if action in (
                               "evaluate", "train_on_batch", "test_on_batch") and
                              metrics == "object" else {}))
        fit = dict(base, action="fit", compile={})
        for kwargs in ({"epochs": 2, "shuffle": True},
                       {"epochs": 2, "validation_split": 0.25, "shuffle": False},
                       {"epochs": 3, "initial_epoch": 1, "shuffle": False},
                       {"epochs": 1, "steps_per_epoch": 1, "shuffle": False},
                       {"epochs": 2, "shuffle": False, "sample_weight": True},
                       {"epochs": 2, "shuffle": False, "validation_freq": 2,
                        "validation_split": 0.5}):
            yield dict(fit, kwargs=kwargs, exact=not kwargs["shuffle"], record=True)
        if head == "cls":
            yield dict(fit, kwargs={"epochs": 2, "shuffle": False,
                                    "class_weight": {0: 1.0, 1: 2.0, 2: 0.5}})
        for validation in ("arrays", "arrays_w"):
            yield dict(fit, kwargs={"epochs": 2, "shuffle": False}, validation=validation,
                       record=True)
        for source in ("dataset", "generator", "pydataset"):
            src = dict(base, source=source, compile={})
            yield dict(src, action="fit", kwargs={"epochs": 2, "shuffle": False},
                       record=True)
            yield dict(src, action="fit", kwargs={"epochs": 2, "shuffle": False},
                       validation="source")
            yield dict(src, action="evaluate", kwargs={"return_dict": True}, record=True)
            yield dict(src, action="evaluate")
            yield dict(src, action="predict", record=True)
        yield dict(base, action="evaluate", compile={}, record=True,
                   kwargs={"batch_size": 4})
        yield dict(base, action="predict", compile={}, record=True,
                   kwargs={"batch_size": 4})
        yield dict(base, action="summary")
        for bad, action in itertools.product(["x_shape", "y_none"], ["fit", "evaluate"]):
            yield dict(base, action=action, compile={}, bad=bad)
        yield dict(base, action="predict", compile={}, bad="x_shape")
        yield dict(base, action="fit", no_compile=True)
        yield dict(base, action="evaluate", no_compile=True)
        for kwargs in ({"batch_size": 0}, {"epochs": 1, "validation_split": 1.5},
                       {"validation_freq": 0, "validation_split": 0.5}):
            yield dict(base, action="fit", compile={}, kwargs=kwargs)
        if model == "functional":
            yield dict(base, action="predict", compile={}, bad="dict_missing")


def _multi():
    base = {"model": "multi"}
    for x, y in itertools.product(["list", "tuple", "dict"], ["list", "tuple", "dict"]):
        spec = dict(base, x=x, y=y, compile={})
        yield dict(spec, action="fit", kwargs={"epochs": 2, "shuffle": False}, record=True)
        for action in ACTIONS:
            yield dict(spec, action=action)
        yield dict(spec, action="evaluate", kwargs={"return_dict": True})
    for loss, loss_obj, weights, metrics in itertools.product(
            ["dict", "list"], ["string", "object"], [None, "list", "dict"],
            ["dict", "list", "none"]):
        c = {"loss": loss, "loss_obj": loss_obj, "loss_weights": weights,
             "metrics": metrics}
        spec = dict(base, x="dict", y="dict", compile=c)
        yield dict(spec, action="fit", kwargs={"epochs": 2, "shuffle": False})
        yield dict(spec, action="evaluate", kwargs={"return_dict": True})
        yield dict(spec, action="train_on_batch")
    for kwargs in ({"epochs": 2, "shuffle": True},
                   {"epochs": 2, "validation_split": 0.25, "shuffle": False},
                   {"epochs": 3, "initial_epoch": 1, "shuffle": False},
                   {"epochs": 2, "shuffle": False, "sample_weight": True}):
        for x in ("list", "dict"):
            yield dict(base, x=x, y="dict", compile={}, action="fit", kwargs=kwargs,
                       exact=not kwargs["shuffle"], record=True)
    for validation in ("arrays", "arrays_w"):
        yield dict(base, x="dict", y="list", compile={}, action="fit", validation=validation,
                   kwargs={"epochs": 2, "shuffle": False}, record=True)
    for source, x, y in itertools.product(["dataset", "generator", "pydataset"],
                                          ["tuple", "dict"], ["tuple", "dict"]):
        src = dict(base, source=source, x=x, y=y, compile={})
        yield dict(src, action="fit", kwargs={"epochs": 2, "shuffle": False}, record=True)
        yield dict(src, action="fit", kwargs={"epochs": 2, "shuffle": False},
                   validation="source")
        yield dict(src, action="evaluate", kwargs={"return_dict": True})
        yield dict(src, action="predict")
    yield dict(base, action="summary")
    yield dict(base, x="dict", y="dict", action="predict", compile={}, bad="dict_missing")
    yield dict(base, x="dict", y="dict", action="fit", compile={},
               kwargs={"class_weight": {0: 1.0}})
    yield dict(base, x="list", y="dict", action="fit", compile={}, bad="x_shape")


def all_cases() -> list[dict]:
    seen, out = set(), []
    for spec in itertools.chain(_single(), _multi()):
        key = case_id(spec)
        if key not in seen:
            seen.add(key)
            out.append(spec)
    return out


if __name__ == "__main__":
    print(len(all_cases()))
