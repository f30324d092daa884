"""Reference facts about tf.data.Dataset semantics, for tinyann's served ``tf.data``.

Runs ONLY in the separate Keras/TensorFlow venv (see README.md beside this file); it
never imports tinyann. Writes tests/fixtures/keras/tf_data_facts.json: cardinalities,
``len()`` errors, batch shapes, and the statistical facts of shuffle + take/skip that
seed 004 relies on (measured over many passes; TF's random numbers themselves are not
reproducible elsewhere, so only their consequences are recorded).

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_tf_data_facts.py   (~10 s)
"""

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras" / "tf_data_facts.json"
PASSES = 50


def ints(ds):
    return [int(v) for v in ds.as_numpy_iterator()]


def cardinalities():
    r = tf.data.Dataset.range(100)
    cases = {
        "range(100)": r,
        "shuffle(10)": r.shuffle(10),
        "take(70)": r.take(70),
        "skip(70)": r.skip(70),
        "take(-1)": r.take(-1),
        "skip(-1)": r.skip(-1),
        "take(200)": r.take(200),
        "skip(200)": r.skip(200),
        "shuffle(10).take(70).batch(20)": r.shuffle(10).take(70).batch(20),
        "shuffle(10).skip(70).batch(20)": r.shuffle(10).skip(70).batch(20),
        "batch(30, drop_remainder=True)": r.batch(30, drop_remainder=True),
        "repeat()": r.repeat(),
        "repeat(3)": r.repeat(3),
        "repeat().take(5)": r.repeat().take(5),
        "repeat().batch(3)": r.repeat().batch(3),
        "repeat().skip(5)": r.repeat().skip(5),
        "filter": r.filter(lambda x: x > 3),
        "filter.take(5)": r.filter(lambda x: x > 3).take(5),
        "map": r.map(lambda x: x * 2),
        "cache.prefetch(AUTOTUNE)": r.cache().prefetch(tf.data.AUTOTUNE),
    }
    return {name: int(ds.cardinality()) for name, ds in cases.items()}


def len_errors():
    out = {}
    for name, ds in {"infinite": tf.data.Dataset.range(3).repeat(),
                     "unknown": tf.data.Dataset.range(3).filter(lambda x: x > 0)}.items():
        try:
            len(ds)
        except TypeError as error:
            out[name] = {"type": type(error).__name__, "message": str(error)}
    return out


def split_facts(reshuffle, seed=None):
    ds = tf.data.Dataset.range(100).shuffle(30, seed=seed, reshuffle_each_iteration=reshuffle)
    take, skip = ds.take(70), ds.skip(70)
    overlaps, take_orders, skip_sets = [], [], []
    for _ in range(PASSES):
        t, s = ints(take), ints(skip)  # one fit epoch: a train pass, then a validation pass
        overlaps.append(len(set(t) & set(s)))
        take_orders.append(t)
        skip_sets.append(frozenset(s))
    return {
        "passes": PASSES,
        "take_len": len(take_orders[0]), "skip_len": len(skip_sets[0]),
        "passes_with_overlap": sum(o > 0 for o in overlaps),
        "distinct_take_orders": len({tuple(t) for t in take_orders}),
        "distinct_skip_sets": len(set(skip_sets)),
    }


def buffer_facts():
    # an element can be emitted at most buffer_size - 1 places before its input position
    ds = tf.data.Dataset.range(40).shuffle(4)
    ahead, first = 0, set()
    for _ in range(PASSES):
        order = ints(ds)
        assert sorted(order) == list(range(40))
        ahead = max(ahead, max(i - p for p, i in enumerate(order)))
        first.add(order[0])
    return {"range": 40, "buffer_size": 4, "passes": PASSES, "max_ahead": ahead,
            "first_elements": sorted(first)}


def seeded_facts():
    def orders():
        ds = tf.data.Dataset.range(20).shuffle(20, seed=7)
        return [ints(ds) for _ in range(3)]

    a, b = orders(), orders()
    cached = tf.data.Dataset.range(20).shuffle(20, seed=7).cache()
    repeated = ints(tf.data.Dataset.range(10).shuffle(10, seed=3).repeat(2))
    return {
        "same_seed_same_orders": a == b,
        "passes_differ": a[0] != a[1],
        "cache_replays_first_pass": ints(cached) == ints(cached),
        "repeat_reshuffles_each_repetition": repeated[:10] != repeated[10:],
    }


def batch_facts():
    ds = tf.data.Dataset.from_tensor_slices((np.zeros((5, 2)), np.arange(5)))
    batches = [[(list(t.shape), t.dtype.name) for t in b] for b in ds.batch(2)]
    dropped = len(list(ds.batch(2, drop_remainder=True)))
    mapped = [[int(v) for v in b[1]] for b in ds.map(lambda x, y: (x + 1, y * 10)).batch(5)]
    return {"batches": batches, "drop_remainder_batches": dropped, "map_then_batch_y": mapped}


def main():
    facts = {
        "versions": {"tensorflow": tf.__version__, "numpy": np.__version__},
        "cardinality": cardinalities(),
        "len_errors": len_errors(),
        "split_reshuffle": split_facts(True),
        "split_reshuffle_seeded": split_facts(True, seed=7),
        "split_no_reshuffle": split_facts(False),
        "buffer": buffer_facts(),
        "seeded": seeded_facts(),
        "batch": batch_facts(),
        "autotune": tf.data.AUTOTUNE,
    }
    OUT.write_text(json.dumps(facts, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
