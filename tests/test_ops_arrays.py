"""Values of the shape, indexing, sorting and statistics ops (tinyann/ops/arrays.py,
tinyann/ops/sorting.py) against NumPy, the dtypes Keras 3 gives (checked against
Keras 3.15 on JAX and TensorFlow), edge cases and errors. Gradients:
tests/autodiff/test_ops_arrays.py."""

from __future__ import annotations

import numpy as np
import pytest

from tinyann import ops

rng = np.random.default_rng(0)
F = rng.standard_normal((3, 4)).astype("float32")
F3 = rng.standard_normal((2, 3, 4)).astype("float32")
I = rng.integers(0, 5, (3, 4)).astype("int32")
V = np.array([3.0, 1.0, 2.0, 5.0, 4.0], "float32")
NAN = F.copy()
NAN[0, 1] = np.nan
NAN[2, :] = np.nan
IDS = np.array([2, 0, 2])


def scatter_add(shape, key, values):
    out = np.zeros(shape, values.dtype)
    np.add.at(out, key, values)
    return out


def padded_cross(a, b):
    """np.cross of vectors with a 2-vector taken as (x, y, 0) (NumPy deprecates 2-vectors)."""
    def three(v):
        return np.concatenate([v, np.zeros(v.shape[:-1] + (3 - v.shape[-1],), v.dtype)], -1)
    return np.cross(three(a), three(b))


def segments(ufunc, start, data, ids, n):
    out = np.full((n,) + data.shape[1:], start, data.dtype)
    ufunc.at(out, ids, data)
    return out


# (name, tinyann call, NumPy's answer)
VALUES = [
    ("split", lambda: ops.split(F, 2, axis=1), lambda: np.split(F, 2, axis=1)),
    ("split at indices", lambda: ops.split(F, [1, 3], axis=-1),
     lambda: np.split(F, [1, 3], axis=-1)),
    ("split past the end", lambda: ops.split(V, [2, 9]), lambda: np.split(V, [2, 9])),
    ("array_split", lambda: ops.array_split(F3, 3, axis=2),
     lambda: np.array_split(F3, 3, axis=2)),
    ("hsplit", lambda: ops.hsplit(F, 2), lambda: np.hsplit(F, 2)),
    ("hsplit vector", lambda: ops.hsplit(V, [1]), lambda: np.hsplit(V, [1])),
    ("vsplit", lambda: ops.vsplit(F3, 2), lambda: np.vsplit(F3, 2)),
    ("dsplit", lambda: ops.dsplit(F3, [1, 2]), lambda: np.dsplit(F3, [1, 2])),
    ("unstack", lambda: ops.unstack(F3, axis=-1), lambda: list(np.moveaxis(F3, -1, 0))),
    ("slice", lambda: ops.slice(F3, (1, 0, 1), (1, 2, -1)), lambda: F3[1:2, 0:2, 1:]),
    ("slice_update", lambda: ops.slice_update(F3, (0, 1, 2), np.ones((2, 1, 2), "float32")),
     lambda: np.concatenate([F3[:, :, :2], np.where(
         np.arange(3)[None, :, None] == 1, 1.0, F3[:, :, 2:])], axis=2)),
    ("scatter", lambda: ops.scatter(np.array([[0, 1], [2, 3], [0, 1]]), V[:3], (3, 4)),
     lambda: scatter_add((3, 4), ([0, 2, 0], [1, 3, 1]), V[:3])),
    ("scatter rows", lambda: ops.scatter(np.array([[2], [0]]), F[:2], (3, 4)),
     lambda: scatter_add((3, 4), ([2, 0],), F[:2])),
    ("scatter_update", lambda: ops.scatter_update(F, np.array([[0, 1], [2, 3]]), V[:2]),
     lambda: np.where(np.isin(np.arange(12).reshape(3, 4), [1, 11]),
                      np.array([[0, 3, 0, 0], [0] * 4, [0, 0, 0, 1]]), F)),
    ("scatter_update rows", lambda: ops.scatter_update(F, np.array([[1]]), V[None, :4]),
     lambda: np.stack([F[0], V[:4], F[2]])),
    ("scatter_update add", lambda: ops.scatter_update(
        F, np.array([[0, 1], [0, 1]]), V[:2], reduction="add"),
     lambda: F + scatter_add((3, 4), ([0, 0], [1, 1]), V[:2])),
    ("scatter_update max", lambda: ops.scatter_update(
        F, np.array([[0, 1], [0, 1]]), np.array([9.0, -8.0], "float32"), reduction="max"),
     lambda: np.where(np.arange(12).reshape(3, 4) == 1, 9.0, F)),
    ("scatter_update mul", lambda: ops.scatter_update(
        F, np.array([[0, 1], [0, 1]]), np.array([2.0, 3.0], "float32"), reduction="mul"),
     lambda: np.where(np.arange(12).reshape(3, 4) == 1, 6 * F, F)),
    ("take_along_axis", lambda: ops.take_along_axis(F, np.argsort(F, axis=0), axis=0),
     lambda: np.sort(F, axis=0)),
    ("take_along_axis negative", lambda: ops.take_along_axis(F, np.array([[-1], [0], [1]]), 1),
     lambda: np.take_along_axis(F, np.array([[3], [0], [1]]), 1)),
    ("take_along_axis flat", lambda: ops.take_along_axis(F, np.array([3, 11])),
     lambda: F.reshape(-1)[[3, 11]]),
    ("get_item", lambda: ops.get_item(F, (1, slice(None, None, 2))), lambda: F[1, ::2]),
    ("repeat", lambda: ops.repeat(F, 2, axis=-1), lambda: np.repeat(F, 2, axis=-1)),
    ("repeat flat", lambda: ops.repeat(I, 2), lambda: np.repeat(I, 2)),
    ("repeat counts", lambda: ops.repeat(F, np.array([1, 0, 2]), axis=0),
     lambda: np.repeat(F, [1, 0, 2], axis=0)),
    ("pad", lambda: ops.pad(F, ((1, 2), (0, 1))), lambda: np.pad(F, ((1, 2), (0, 1)))),
    ("pad constant_values", lambda: ops.pad(I, 1, constant_values=7),
     lambda: np.pad(I, 1, constant_values=7)),
    ("pad reflect", lambda: ops.pad(F, 2, mode="reflect"), lambda: np.pad(F, 2, "reflect")),
    ("pad symmetric", lambda: ops.pad(F, ((3, 1), (2, 4)), mode="symmetric"),
     lambda: np.pad(F, ((3, 1), (2, 4)), "symmetric")),
    ("pad edge", lambda: ops.pad(F, 1, mode="edge"), lambda: np.pad(F, 1, "edge")),
    ("pad wrap", lambda: ops.pad(F, ((0, 1), (5, 1)), mode="wrap"),
     lambda: np.pad(F, ((0, 1), (5, 1)), "wrap")),
    ("pad circular", lambda: ops.pad(V, 2, mode="circular"), lambda: np.pad(V, 2, "wrap")),
    ("flip", lambda: ops.flip(F3), lambda: np.flip(F3)),
    ("flip axes", lambda: ops.flip(F3, axis=(0, -1)), lambda: np.flip(F3, (0, -1))),
    ("fliplr", lambda: ops.fliplr(F), lambda: np.fliplr(F)),
    ("flipud", lambda: ops.flipud(F), lambda: np.flipud(F)),
    ("roll", lambda: ops.roll(F, 3), lambda: np.roll(F, 3)),
    ("roll axes", lambda: ops.roll(F3, (1, -1), axis=(0, 2)),
     lambda: np.roll(F3, (1, -1), axis=(0, 2))),
    ("rot90", lambda: ops.rot90(F), lambda: np.rot90(F)),
    ("rot90 k", lambda: ops.rot90(F3, k=-3, axes=(2, 1)), lambda: np.rot90(F3, -3, (2, 1))),
    ("moveaxis", lambda: ops.moveaxis(F3, 0, -1), lambda: np.moveaxis(F3, 0, -1)),
    ("moveaxis several", lambda: ops.moveaxis(F3, [0, 1], [2, 0]),
     lambda: np.moveaxis(F3, [0, 1], [2, 0])),
    ("hstack", lambda: ops.hstack([F, F[:, :1]]), lambda: np.hstack([F, F[:, :1]])),
    ("hstack vectors", lambda: ops.hstack([V, V]), lambda: np.hstack([V, V])),
    ("vstack", lambda: ops.vstack([V, V]), lambda: np.vstack([V, V])),
    ("dstack", lambda: ops.dstack([F, F]), lambda: np.dstack([F, F])),
    ("dstack vectors", lambda: ops.dstack([V, V]), lambda: np.dstack([V, V])),
    ("append", lambda: ops.append(F, F[0]), lambda: np.append(F, F[0])),
    ("append axis", lambda: ops.append(F, F, axis=1), lambda: np.append(F, F, axis=1)),
    ("tril", lambda: ops.tril(F3), lambda: np.tril(F3)),
    ("tril k", lambda: ops.tril(F, -1), lambda: np.tril(F, -1)),
    ("triu", lambda: ops.triu(F, 1), lambda: np.triu(F, 1)),
    ("triu int", lambda: ops.triu(I), lambda: np.triu(I)),
    ("tri", lambda: ops.tri(3, 4, -1), lambda: np.tri(3, 4, -1, dtype="float32")),
    ("tri int", lambda: ops.tri(3, dtype="int32"), lambda: np.tri(3, dtype="int32")),
    ("diag vector", lambda: ops.diag(V, 2), lambda: np.diag(V, 2)),
    ("diag matrix", lambda: ops.diag(F, -1), lambda: np.diag(F, -1)),
    ("diag int", lambda: ops.diag(I[0]), lambda: np.diag(I[0])),
    ("diagonal", lambda: ops.diagonal(F3, 1, 1, 2), lambda: np.diagonal(F3, 1, 1, 2)),
    ("diagonal axes", lambda: ops.diagonal(F3, -1, 2, 0), lambda: np.diagonal(F3, -1, 2, 0)),
    ("diagonal past the end", lambda: ops.diagonal(F, 5), lambda: np.diagonal(F, 5)),
    ("diagflat", lambda: ops.diagflat(F[:2, :2], 1), lambda: np.diagflat(F[:2, :2], 1)),
    ("trace", lambda: ops.trace(F), lambda: np.trace(F)),
    ("trace axes", lambda: ops.trace(F3, 1, 2, 1), lambda: np.trace(F3, 1, 2, 1)),
    ("trace int", lambda: ops.trace(I), lambda: np.trace(I).astype("int32")),
    ("meshgrid", lambda: ops.meshgrid(V[:2], V, V[:3]), lambda: np.meshgrid(V[:2], V, V[:3])),
    ("meshgrid ij", lambda: ops.meshgrid(V[:2], V, indexing="ij"),
     lambda: np.meshgrid(V[:2], V, indexing="ij")),
    ("copy", lambda: ops.copy(I), lambda: I),
    ("empty", lambda: ops.empty((2, 3)), lambda: np.zeros((2, 3), "float32")),
    ("empty_like", lambda: ops.empty_like(I), lambda: np.zeros_like(I)),
    ("outer", lambda: ops.outer(F, V), lambda: np.outer(F, V)),
    ("outer int", lambda: ops.outer(I, I[0]), lambda: np.outer(I, I[0])),
    ("inner", lambda: ops.inner(F3, F), lambda: np.inner(F3, F)),
    ("inner scalar", lambda: ops.inner(F, np.float32(2)), lambda: F * 2),
    ("kron", lambda: ops.kron(F, F[:2, :3]), lambda: np.kron(F, F[:2, :3])),
    ("kron ranks", lambda: ops.kron(V, F), lambda: np.kron(V, F)),
    ("vdot", lambda: ops.vdot(F, F), lambda: np.vdot(F, F)),
    ("vdot int", lambda: ops.vdot(I, I), lambda: np.vdot(I, I).astype("int32")),
    ("cross", lambda: ops.cross(F3[..., :3], F3[0, ..., 1:]),
     lambda: np.cross(F3[..., :3], F3[0, ..., 1:])),
    ("cross 2-vectors", lambda: ops.cross(F[:, :2], F[:, 2:]),
     lambda: padded_cross(F[:, :2], F[:, 2:])[:, 2]),
    ("cross 2 and 3", lambda: ops.cross(F[:, :2], F[:, 1:]),
     lambda: padded_cross(F[:, :2], F[:, 1:])),
    ("cross 3 and 2", lambda: ops.cross(F[:, 1:], F[:, :2]),
     lambda: padded_cross(F[:, 1:], F[:, :2])),
    ("cross axes", lambda: ops.cross(F[:3, :2], F[:3, 2:], axisa=0, axisb=0, axisc=0),
     lambda: padded_cross(F[:3, :2].T, F[:3, 2:].T).T),
    ("logspace", lambda: ops.logspace(0, 3, 4), lambda: np.logspace(0, 3, 4, dtype="float32")),
    ("logspace base", lambda: ops.logspace(1, 2, 5, endpoint=False, base=2),
     lambda: np.logspace(1, 2, 5, endpoint=False, base=2, dtype="float32")),
    ("geomspace", lambda: ops.geomspace(2, 32, 4, endpoint=False),
     lambda: np.geomspace(2, 32, 4, endpoint=False, dtype="float32")),
    ("vander", lambda: ops.vander(V), lambda: np.vander(V)),
    ("vander N increasing", lambda: ops.vander(V[:3], 5, increasing=True),
     lambda: np.vander(V[:3], 5, increasing=True)),
    ("vander int", lambda: ops.vander(I[0]), lambda: np.vander(I[0]).astype("int32")),
    ("trapezoid", lambda: ops.trapezoid(F), lambda: np.trapezoid(F)),
    ("trapezoid x", lambda: ops.trapezoid(F, x=V[:4]), lambda: np.trapezoid(F, x=V[:4])),
    ("trapezoid x 2d", lambda: ops.trapezoid(F, x=F, axis=0), lambda: np.trapezoid(F, F, axis=0)),
    ("trapezoid dx", lambda: ops.trapezoid(F, dx=0.3, axis=0),
     lambda: np.trapezoid(F, dx=0.3, axis=0)),
    ("trapezoid int", lambda: ops.trapezoid(I), lambda: np.trapezoid(I).astype("float32")),
    ("correlate", lambda: ops.correlate(V, V[:3]), lambda: np.correlate(V, V[:3])),
    ("correlate full", lambda: ops.correlate(V, V[1:3], mode="full"),
     lambda: np.correlate(V, V[1:3], "full")),
    ("correlate same", lambda: ops.correlate(V, V[:4], mode="same"),
     lambda: np.correlate(V, V[:4], "same")),
    ("correlate same shorter first", lambda: ops.correlate(V[:2], V, mode="same"),
     lambda: np.correlate(V[:2], V, "same")),
    ("correlate same 3 and 4", lambda: ops.correlate(V[:3], V[1:], mode="same"),
     lambda: np.correlate(V[:3], V[1:], "same")),
    ("correlate valid shorter first", lambda: ops.correlate(V[:2], V),
     lambda: np.correlate(V[:2], V)),
    ("correlate int", lambda: ops.correlate(I[0], I[1]),
     lambda: np.correlate(I[0], I[1]).astype("float32")),
    ("histogram", lambda: ops.histogram(V, bins=3),
     lambda: [a.astype("float32") for a in np.histogram(V, 3)]),
    ("histogram range", lambda: ops.histogram(V, bins=4, range=(0, 8)),
     lambda: [a.astype("float32") for a in np.histogram(V, 4, (0, 8))]),
    # sorting and searching
    ("sort", lambda: ops.sort(F), lambda: np.sort(F)),
    ("sort axis 0", lambda: ops.sort(F3, axis=0), lambda: np.sort(F3, axis=0)),
    ("sort flat", lambda: ops.sort(F, axis=None), lambda: np.sort(F, axis=None)),
    ("sort int", lambda: ops.sort(I), lambda: np.sort(I)),
    ("argsort", lambda: ops.argsort(F, axis=0), lambda: np.argsort(F, 0).astype("int32")),
    ("argsort ties stable", lambda: ops.argsort(np.array([2, 1, 2, 1])),
     lambda: np.array([1, 3, 0, 2], "int32")),
    ("top_k", lambda: ops.top_k(F3, 3),
     lambda: [-np.sort(-F3)[..., :3], np.argsort(-F3, kind="stable")[..., :3].astype("int32")]),
    ("top_k ties keep the lower index", lambda: ops.top_k(np.array([1, 3, 3, 2]), 2),
     lambda: [np.array([3, 3]), np.array([1, 2], "int32")]),
    ("in_top_k", lambda: ops.in_top_k(np.array([0, 1, 3]), F, 2),
     lambda: np.array([(F[r] > F[r, t]).sum() < 2 for r, t in enumerate([0, 1, 3])])),
    ("in_top_k ties count in", lambda: ops.in_top_k(
        np.array([0, 1, 3]), np.array([[1, 1, 1, 1], [0, 2, 2, 1], [3, 3, 3, 2]], "f"), 1),
     lambda: np.array([True, True, False])),
    ("argpartition", lambda: np.take_along_axis(F, ops.argpartition(F, 1).numpy(), -1)[:, 1],
     lambda: np.sort(F)[:, 1]),
    ("searchsorted", lambda: ops.searchsorted(np.sort(V), F),
     lambda: np.searchsorted(np.sort(V), F).astype("int32")),
    ("searchsorted right", lambda: ops.searchsorted(np.array([1.0, 2, 2, 3]), np.array(
        [2.0, 0]), side="right"), lambda: np.array([3, 0], "int32")),
    ("nonzero", lambda: ops.nonzero(I), lambda: [i.astype("int32") for i in np.nonzero(I)]),
    ("unique", lambda: ops.unique(I), lambda: np.unique(I)),
    ("unique all", lambda: ops.unique(np.array([3, 1, 1, 2, 3]), return_index=True,
                                      return_inverse=True, return_counts=True),
     lambda: [np.array([1, 2, 3]), np.array([1, 3, 0], "int32"),
              np.array([2, 0, 0, 1, 2], "int32"), np.array([2, 1, 2], "int32")]),
    ("unique inverse in x's shape", lambda: ops.unique(I, return_inverse=True)[1],
     lambda: np.searchsorted(np.unique(I), I).astype("int32")),
    ("unique unsorted", lambda: ops.unique(np.array([3, 1, 1, 2, 3]), sorted=False,
                                           return_inverse=True),
     lambda: [np.array([3, 1, 2]), np.array([0, 1, 1, 2, 0], "int32")]),
    ("unique size pads", lambda: ops.unique(np.array([3, 1, 1, 2]), size=5),
     lambda: np.array([1, 2, 3, 1, 1])),
    ("unique size fill_value", lambda: ops.unique(np.array([3, 1, 2]), size=4, fill_value=-1,
                                                  return_counts=True),
     lambda: [np.array([1, 2, 3, -1]), np.array([1, 1, 1, 0], "int32")]),
    ("unique size cuts", lambda: ops.unique(np.array([3, 1, 1, 2]), size=2),
     lambda: np.array([1, 2])),
    ("count_nonzero", lambda: ops.count_nonzero(I), lambda: np.int32(np.count_nonzero(I))),
    ("count_nonzero axis", lambda: ops.count_nonzero(I, axis=0),
     lambda: np.count_nonzero(I, axis=0).astype("int32")),
    ("bincount", lambda: ops.bincount(np.array([0, 1, 1, 3]), minlength=6),
     lambda: np.bincount([0, 1, 1, 3], minlength=6).astype("int32")),
    ("bincount weights", lambda: ops.bincount(np.array([0, 1, 1, 3]), weights=V[:4]),
     lambda: np.bincount([0, 1, 1, 3], V[:4]).astype("float32")),
    ("bincount rows", lambda: ops.bincount(I, minlength=6),
     lambda: np.stack([np.bincount(r, minlength=6) for r in I]).astype("int32")),
    ("bincount rows weights", lambda: ops.bincount(I, weights=F),
     lambda: np.stack([np.bincount(r, w, I.max() + 1) for r, w in zip(I, F)]).astype("f")),
    ("digitize", lambda: ops.digitize(F, np.array([-1.0, 0, 1])),
     lambda: np.digitize(F, [-1.0, 0, 1]).astype("int32")),
    ("isin", lambda: ops.isin(I, np.array([1, 2])), lambda: np.isin(I, [1, 2])),
    ("isin invert", lambda: ops.isin(I, [1, 2], invert=True), lambda: ~np.isin(I, [1, 2])),
    ("unravel_index", lambda: ops.unravel_index(np.array([0, 7, 11]), (3, 4)),
     lambda: [i.astype("int32") for i in np.unravel_index([0, 7, 11], (3, 4))]),
    ("select", lambda: ops.select([F > 0.5, F < -0.5], [F, -F * 2], default=9.0),
     lambda: np.select([F > 0.5, F < -0.5], [F, -F * 2], 9.0)),
    ("select broadcast", lambda: ops.select([V > 2], [I[0, :1]]),
     lambda: np.select([V > 2], [I[0, :1]])),
    # running products, differences and statistics
    ("cumprod", lambda: ops.cumprod(F, axis=1), lambda: np.cumprod(F, axis=1)),
    ("cumprod flat", lambda: ops.cumprod(F), lambda: np.cumprod(F)),
    ("cumprod int", lambda: ops.cumprod(I, axis=0), lambda: np.cumprod(I, 0).astype("int32")),
    ("cumprod bool", lambda: ops.cumprod(I > 0), lambda: np.cumprod(I > 0).astype("int32")),
    ("cumprod dtype", lambda: ops.cumprod(I, dtype="float32"),
     lambda: np.cumprod(I).astype("float32")),
    ("diff", lambda: ops.diff(F), lambda: np.diff(F)),
    ("diff n axis", lambda: ops.diff(F3, n=2, axis=1), lambda: np.diff(F3, 2, axis=1)),
    ("diff n=0", lambda: ops.diff(F, n=0), lambda: F),
    ("diff int", lambda: ops.diff(I, axis=0), lambda: np.diff(I, axis=0)),
    ("average", lambda: ops.average(F), lambda: np.average(F)),
    ("average axis", lambda: ops.average(F, axis=0), lambda: np.average(F, axis=0)),
    ("average 1-D weights", lambda: ops.average(F, axis=1, weights=V[:4]),
     lambda: np.average(F, axis=1, weights=V[:4])),
    ("average full weights", lambda: ops.average(F, weights=np.abs(F)),
     lambda: np.average(F, weights=np.abs(F))),
    ("average int", lambda: ops.average(I, axis=1), lambda: np.average(I, 1).astype("f")),
    ("average int weights", lambda: ops.average(I, axis=1, weights=np.arange(1, 5)),
     lambda: np.average(I, 1, np.arange(1, 5)).astype("f")),
    ("ptp", lambda: ops.ptp(F), lambda: np.ptp(F)),
    ("ptp int keepdims", lambda: ops.ptp(I, axis=1, keepdims=True),
     lambda: np.ptp(I, axis=1, keepdims=True)),
    ("median", lambda: ops.median(F), lambda: np.median(F)),
    ("median axes keepdims", lambda: ops.median(F3, axis=(0, 2), keepdims=True),
     lambda: np.median(F3, axis=(0, 2), keepdims=True)),
    ("median int", lambda: ops.median(I, axis=0), lambda: np.median(I, 0).astype("f")),
    ("median NaN", lambda: ops.median(NAN, axis=1), lambda: np.median(NAN, axis=1)),
    ("quantile", lambda: ops.quantile(F3, np.array([0.1, 0.5]), axis=1),
     lambda: np.quantile(F3, [0.1, 0.5], axis=1)),
    ("quantile q 2-D keepdims", lambda: ops.quantile(F3, np.array([[0.2], [0.9]]),
                                                     axis=(0, 2), keepdims=True),
     lambda: np.quantile(F3, [[0.2], [0.9]], axis=(0, 2), keepdims=True)),
    ("quantile negative axis", lambda: ops.quantile(F3, 0.25, axis=-2),
     lambda: np.quantile(F3, 0.25, axis=-2)),
    ("percentile", lambda: ops.percentile(F3, 70, axis=-1),
     lambda: np.percentile(F3, 70, axis=-1)),
    ("nansum", lambda: ops.nansum(NAN, axis=1), lambda: np.nansum(NAN, axis=1)),
    ("nansum int", lambda: ops.nansum(I), lambda: np.int32(I.sum())),
    ("nanmean", lambda: ops.nanmean(NAN, axis=0, keepdims=True),
     lambda: np.nanmean(NAN, axis=0, keepdims=True)),
    ("nanmean int", lambda: ops.nanmean(I), lambda: np.float32(I.mean())),
    ("nanmax", lambda: ops.nanmax(NAN, axis=0), lambda: np.nanmax(NAN, axis=0)),
    ("nanmin", lambda: ops.nanmin(NAN), lambda: np.nanmin(NAN)),
    ("nanmax int", lambda: ops.nanmax(I, axis=0), lambda: I.max(axis=0)),
    ("nanprod", lambda: ops.nanprod(NAN, axis=0), lambda: np.nanprod(NAN, axis=0)),
    ("nanvar", lambda: ops.nanvar(NAN, axis=0), lambda: np.nanvar(NAN, axis=0)),
    ("nanstd", lambda: ops.nanstd(NAN), lambda: np.nanstd(NAN)),
    ("nanmedian", lambda: ops.nanmedian(NAN, axis=0), lambda: np.nanmedian(NAN, axis=0)),
    ("nanmedian all", lambda: ops.nanmedian(NAN), lambda: np.nanmedian(NAN)),
    ("nanquantile", lambda: ops.nanquantile(NAN[:2], np.array([0.25, 0.75]), axis=1),
     lambda: np.nanquantile(NAN[:2], [0.25, 0.75], axis=1)),
    ("nanpercentile", lambda: ops.nanpercentile(NAN, 40, axis=0),
     lambda: np.nanpercentile(NAN, 40, axis=0)),
    ("nanargmax", lambda: ops.nanargmax(NAN[:2], axis=1),
     lambda: np.nanargmax(NAN[:2], axis=1).astype("int32")),
    ("nanargmin", lambda: ops.nanargmin(NAN), lambda: np.int32(np.nanargmin(NAN))),
    ("nanargmax all NaN gives -1", lambda: ops.nanargmax(NAN, axis=1),
     lambda: np.array([np.nanargmax(NAN[0]), np.argmax(NAN[1]), -1], "int32")),
    ("nanargmin int", lambda: ops.nanargmin(I, axis=0), lambda: np.argmin(I, 0).astype("i")),
    ("nancumsum", lambda: ops.nancumsum(NAN, axis=1), lambda: np.nancumsum(NAN, axis=1)),
    ("nancumsum int", lambda: ops.nancumsum(I), lambda: np.cumsum(I).astype("int32")),
    ("nancumprod", lambda: ops.nancumprod(NAN), lambda: np.nancumprod(NAN)),
    # segments
    ("segment_sum", lambda: ops.segment_sum(F, IDS, num_segments=4),
     lambda: segments(np.add, 0, F, IDS, 4)),
    ("segment_sum counted", lambda: ops.segment_sum(F, IDS),
     lambda: segments(np.add, 0, F, IDS, 3)),
    ("segment_sum drops ids out of range", lambda: ops.segment_sum(
        F, np.array([0, 5, 1]), num_segments=2), lambda: F[[0, 2]]),
    ("segment_max", lambda: ops.segment_max(F, IDS, num_segments=3),
     lambda: segments(np.maximum, -np.inf, F, IDS, 3)),
    ("segment_min", lambda: ops.segment_min(F, IDS),
     lambda: segments(np.minimum, np.inf, F, IDS, 3)),
    ("segment_max int", lambda: ops.segment_max(I, IDS, num_segments=4),
     lambda: segments(np.maximum, np.iinfo("int32").min, I, IDS, 4)),
    ("segment_prod", lambda: ops.segment_prod(F, IDS, num_segments=4),
     lambda: segments(np.multiply, 1, F, IDS, 4)),
]


def _listed(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


@pytest.mark.parametrize("name, ours, numpys", VALUES, ids=[v[0] for v in VALUES])
def test_values_and_dtypes_match_numpy(name, ours, numpys):
    got, want = _listed(ours()), _listed(numpys())
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape
        # NumPy's float64 results of float32 inputs stay float32 here, as in Keras
        expected = np.float32 if w.dtype == np.float64 else w.dtype
        assert g.dtype == expected
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_facts_size_ndim_and_dtype_name():
    assert ops.size(F3) == 24 and ops.ndim(F3) == 3
    assert ops.dtype(I) == "int32" and ops.dtype(ops.convert_to_tensor([1.0])) == "float32"
    assert ops.dtype(1.0) == "float32" and ops.dtype([1, 2]) == "int32"
    assert ops.dtype(np.zeros(2)) == "float64" and ops.dtype(F > 0) == "bool"


def test_top_k_names_its_values_and_indices_as_tensorflow():
    result = ops.top_k(V, 2)
    values, indices = result
    assert result.values is values and result.indices is indices
    assert values.numpy().tolist() == [5.0, 4.0] and indices.numpy().tolist() == [3, 4]


def test_inputs_are_never_modified_in_place():
    f = F.copy()
    ops.scatter_update(f, np.array([[0, 1]]), np.array([9.0], "float32"))
    ops.slice_update(f, (0, 0), np.zeros((1, 1), "float32"))
    ops.scatter_update(f, np.array([[0, 1]]), np.array([9.0], "float32"), reduction="max")
    np.testing.assert_array_equal(f, F)


def test_the_quantile_methods_pick_numpys_neighbours():
    for method in ("linear", "lower", "higher", "midpoint", "nearest"):
        for q in (0.0, 0.1, 0.3, 0.5, 0.7, 1.0):
            np.testing.assert_allclose(ops.quantile(F, q, axis=1, method=method).numpy(),
                                       np.quantile(F, q, axis=1, method=method),
                                       rtol=1e-6, err_msg=f"{method} {q}")


def test_an_all_nan_row_gives_nan_in_the_nan_reductions():
    rows = {"nanmean": ops.nanmean, "nanmax": ops.nanmax, "nanmin": ops.nanmin,
            "nanmedian": ops.nanmedian, "nanvar": ops.nanvar}
    for name, fn in rows.items():
        with np.errstate(all="ignore"):
            got = fn(NAN, axis=1).numpy()
        assert np.isnan(got[2]) and np.isfinite(got[:2]).all(), name


ERRORS = [
    (lambda: ops.split(F, 3, axis=1), "equal division"),
    (lambda: ops.split(F, 0), "positive"),
    (lambda: ops.split(F, 2, axis=2), "out of bounds"),
    (lambda: ops.vsplit(V, 1), "rank 2"),
    (lambda: ops.unstack(F, num=2), "num"),
    (lambda: ops.slice(F, (0,), (1, 1)), "one entry per axis"),
    (lambda: ops.scatter(np.array([[0.5]]), V[:1], (3,)), "integers"),
    (lambda: ops.scatter_update(F, np.array([[0, 1]]), V[:1], reduction="sum"), "reduction"),
    (lambda: ops.take_along_axis(F, np.array([0, 1]), axis=1), "rank"),
    (lambda: ops.pad(F, 1, mode="linear_ramp"), "mode"),
    (lambda: ops.pad(F, 1, mode="reflect", constant_values=1), "constant_values"),
    (lambda: ops.rot90(V), "rank 2"),
    (lambda: ops.moveaxis(F3, (0, 1), 2), "same number"),
    (lambda: ops.tril(V), "rank 2"),
    (lambda: ops.diag(F3), "vector or a matrix"),
    (lambda: ops.meshgrid(V, indexing="xyz"), "indexing"),
    (lambda: ops.inner(F, F3[..., :3]), "last axes"),
    (lambda: ops.cross(F, F), "2 or 3"),
    (lambda: ops.correlate(F, V), "vectors"),
    (lambda: ops.correlate(V, V, mode="circular"), "mode"),
    (lambda: ops.histogram(F), "1-D"),
    (lambda: ops.vander(F), "1-D"),
    (lambda: ops.top_k(F, 5), "k must be"),
    (lambda: ops.in_top_k(np.array([0]), F, 1), "targets"),
    (lambda: ops.searchsorted(F, V), "1-D"),
    (lambda: ops.searchsorted(V, V, side="middle"), "side"),
    (lambda: ops.bincount(np.array([-1, 2])), "non-negative"),
    (lambda: ops.select([V > 0], []), "same length"),
    (lambda: ops.average(F, axis=1, weights=V), "weights"),
    (lambda: ops.quantile(F, 1.5), r"\[0, 1\]"),
    (lambda: ops.quantile(F, 0.5, method="cubic"), "method"),
    (lambda: ops.nanpercentile(F, 101), r"\[0, 100\]"),
    (lambda: ops.segment_sum(F, np.array([0, 1])), "one id per row"),
]


@pytest.mark.parametrize("call, message", ERRORS, ids=[m for _, m in ERRORS])
def test_bad_arguments_say_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bincount_sparse_is_refused():
    with pytest.raises(NotImplementedError, match="sparse"):
        ops.bincount(np.array([1]), sparse=True)


def test_every_name_is_exported_from_keras_ops():
    from tinyann.ops import arrays, sorting
    for name in arrays.__all__ + sorting.__all__:
        assert getattr(ops, name) is getattr(arrays if name in arrays.__all__ else sorting, name)
