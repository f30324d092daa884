"""Gradients of the shape, indexing, sorting and statistics ops (tinyann/ops/arrays.py,
tinyann/ops/sorting.py) against central differences in float64, for a random output
gradient; float32 in gives float32 out; second derivatives by nested tapes."""

from __future__ import annotations

import numpy as np
import pytest

from tests.autodiff.gradient_table import check_central_differences
from tests.autodiff.test_higher_order import hvp, numeric_hvp
from tests.autodiff.test_op_gradients import distinct, normal, positive
from tinyann import ops
from tinyann.autodiff import GradientTape, Tensor


def with_nan(rng, shape):
    # distinct values and a NaN in every other row: the nan* reductions skip them
    values = distinct(rng, shape)
    values.reshape(-1, shape[-1])[::2, 0] = np.nan
    return values


def with_zero(rng, shape):
    values = normal(rng, shape)
    values.reshape(-1)[1] = 0.0
    return values


def joined(pieces):
    """The pieces of a split, each weighted differently, joined back into one tensor."""
    return ops.concatenate([ops.reshape(p, (-1,)) * (i + 1.0) for i, p in enumerate(pieces)])


IDS = np.array([2, 0, 2, 1, 0])
CASES = [
    # splitting and windows
    ("split", lambda a: joined(ops.split(a, 2, axis=-1)), [((3, 4), normal)]),
    ("array_split indices", lambda a: joined(ops.array_split(a, [1, 4], axis=0)),
     [((5, 2), normal)]),
    ("hsplit", lambda a: joined(ops.hsplit(a, 2)), [((2, 4), normal)]),
    ("vsplit", lambda a: joined(ops.vsplit(a, 2)), [((4, 3), normal)]),
    ("dsplit", lambda a: joined(ops.dsplit(a, [1])), [((2, 2, 3), normal)]),
    ("unstack", lambda a: ops.stack(ops.unstack(a, axis=1)[::-1]) * 2.0, [((2, 3), normal)]),
    ("slice", lambda a: ops.slice(a, (1, 0, 2), (2, -1, 2)), [((3, 2, 4), normal)]),
    ("slice_update", lambda a, u: ops.slice_update(a, (1, 1), u),
     [((3, 4), normal), ((2, 2), normal)]),
    ("get_item", lambda a: ops.get_item(a, (slice(None), np.array([2, 0, 2]))),
     [((2, 3), normal)]),
    # scatters and gathers (repeated indices add up)
    ("scatter duplicates", lambda v: ops.scatter(np.array([[0, 1], [2, 0], [0, 1]]), v,
                                                 (3, 2, 2)), [((3, 2), normal)]),
    ("scatter_update", lambda a, u: ops.scatter_update(a, np.array([[0], [2], [0]]), u),
     [((3, 2), normal), ((3, 2), normal)]),
    ("scatter_update add", lambda a, u: ops.scatter_update(
        a, np.array([[1, 1], [1, 1]]), u, reduction="add"), [((2, 3), normal), ((2,), normal)]),
    ("scatter_update max", lambda a, u: ops.scatter_update(
        a, np.array([[0, 1], [2, 0], [0, 1]]), u + 0.033, reduction="max"),
     [((3, 2), distinct), ((3,), distinct)]),
    ("scatter_update min rows", lambda a, u: ops.scatter_update(
        a, np.array([[1], [1]]), u + 0.033, reduction="min"), [((3, 2), distinct),
                                                               ((2, 2), distinct)]),
    ("take_along_axis", lambda a: ops.take_along_axis(a, np.array([[0, 0], [2, -1]]), axis=1),
     [((2, 3), normal)]),
    ("take_along_axis broadcast", lambda a: ops.take_along_axis(a, np.array([[1], [0]]), 0),
     [((2, 3), normal)]),
    ("take_along_axis flat", lambda a: ops.take_along_axis(a, np.array([5, 0, 5])),
     [((2, 3), normal)]),
    ("repeat", lambda a: ops.repeat(a, np.array([1, 3]), axis=0), [((2, 3), normal)]),
    ("repeat flat", lambda a: ops.repeat(a, 2), [((2, 2), normal)]),
    ("bincount weights", lambda w: ops.bincount(np.array([1, 3, 1, 0]), weights=w),
     [((4,), normal)]),
    ("bincount weights 2d", lambda w: ops.bincount(np.array([[1, 2], [0, 0]]), weights=w,
                                                    minlength=4), [((2, 2), normal)]),
    # padding and permutations
    ("pad constant", lambda a: ops.pad(a, ((1, 0), (2, 1)), constant_values=3.0),
     [((2, 3), normal)]),
    ("pad reflect", lambda a: ops.pad(a, 2, mode="reflect"), [((3, 4), normal)]),
    ("pad symmetric", lambda a: ops.pad(a, ((3, 1), (0, 2)), mode="symmetric"),
     [((2, 3), normal)]),
    ("pad edge", lambda a: ops.pad(a, 1, mode="edge"), [((2, 3), normal)]),
    ("pad wrap", lambda a: ops.pad(a, ((0, 0), (4, 1)), mode="wrap"), [((2, 3), normal)]),
    ("flip", lambda a: ops.flip(a, axis=(0, -1)), [((2, 3, 2), normal)]),
    ("fliplr", ops.fliplr, [((2, 3), normal)]),
    ("flipud", ops.flipud, [((2, 3), normal)]),
    ("roll", lambda a: ops.roll(a, (1, -2), axis=(0, 1)), [((3, 4), normal)]),
    ("roll flat", lambda a: ops.roll(a, 5), [((3, 4), normal)]),
    ("rot90", lambda a: ops.rot90(a, k=3, axes=(1, 2)), [((2, 3, 4), normal)]),
    ("moveaxis", lambda a: ops.moveaxis(a, (0, 1), (-1, 0)), [((2, 3, 4), normal)]),
    # joining
    ("hstack", lambda a, b: ops.hstack([a, b]), [((2, 3), normal), ((2, 1), normal)]),
    ("vstack vectors", lambda a, b: ops.vstack([a, b]), [((3,), normal), ((3,), normal)]),
    ("dstack", lambda a, b: ops.dstack([a, b]), [((2, 3), normal), ((2, 3), normal)]),
    ("append", lambda a, b: ops.append(a, b), [((2, 3), normal), ((2,), normal)]),
    ("append axis", lambda a, b: ops.append(a, b, axis=0), [((2, 3), normal), ((1, 3), normal)]),
    ("meshgrid", lambda a, b: ops.stack([g * (i + 1.0) for i, g in enumerate(ops.meshgrid(a, b))]),
     [((2,), normal), ((3,), normal)]),
    ("meshgrid ij", lambda a, b, c: ops.stack(ops.meshgrid(a, b, c, indexing="ij")),
     [((2,), normal), ((3,), normal), ((2,), normal)]),
    ("copy", lambda a: ops.copy(a) * 3.0, [((2, 3), normal)]),
    # triangles and diagonals
    ("tril", lambda a: ops.tril(a, -1), [((2, 3, 4), normal)]),
    ("triu", lambda a: ops.triu(a, 1), [((4, 3), normal)]),
    ("diag vector", lambda a: ops.diag(a, k=-1), [((3,), normal)]),
    ("diag matrix", lambda a: ops.diag(a, k=1), [((3, 4), normal)]),
    ("diagonal", lambda a: ops.diagonal(a, offset=-1, axis1=2, axis2=0), [((3, 2, 4), normal)]),
    ("diagflat", lambda a: ops.diagflat(a), [((2, 2), normal)]),
    ("trace", lambda a: ops.trace(a, axis1=1, axis2=2), [((2, 3, 3), normal)]),
    # products
    ("outer", ops.outer, [((3,), normal), ((2, 2), normal)]),
    ("inner", ops.inner, [((2, 3), normal), ((4, 3), normal)]),
    ("inner vectors", ops.inner, [((3,), normal), ((3,), normal)]),
    ("kron", ops.kron, [((2, 3), normal), ((3, 2), normal)]),
    ("kron ranks", ops.kron, [((2,), normal), ((2, 3), normal)]),
    ("vdot", ops.vdot, [((2, 3), normal), ((6,), normal)]),
    ("cross", ops.cross, [((4, 3), normal), ((3,), normal)]),
    ("cross axis", lambda a, b: ops.cross(a, b, axis=0), [((3, 2), normal), ((3, 2), normal)]),
    ("cross 2 and 3", ops.cross, [((2, 2), normal), ((2, 3), normal)]),
    ("cross 2d", ops.cross, [((2, 2), normal), ((2, 2), normal)]),
    ("vander", lambda a: ops.vander(a, 4), [((3,), normal)]),
    ("vander increasing", lambda a: ops.vander(a, increasing=True), [((3,), with_zero)]),
    ("trapezoid", lambda a: ops.trapezoid(a, dx=0.5, axis=0), [((3, 2), normal)]),
    ("trapezoid x", lambda y, x: ops.trapezoid(y, x), [((2, 4), normal), ((4,), normal)]),
    ("correlate full", lambda a, b: ops.correlate(a, b, mode="full"),
     [((5,), normal), ((3,), normal)]),
    ("correlate same", lambda a, b: ops.correlate(a, b, mode="same"),
     [((5,), normal), ((4,), normal)]),
    ("correlate valid shorter first", ops.correlate, [((2,), normal), ((4,), normal)]),
    # sorting
    ("sort", ops.sort, [((3, 4), distinct)]),
    ("sort axis 0", lambda a: ops.sort(a, axis=0), [((3, 4), distinct)]),
    ("sort flat", lambda a: ops.sort(a, axis=None), [((3, 4), distinct)]),
    ("top_k values", lambda a: ops.top_k(a, 2)[0], [((3, 5), distinct)]),
    # running products, differences, statistics
    ("cumprod", lambda a: ops.cumprod(a, axis=1), [((3, 4), normal)]),
    ("cumprod flat", ops.cumprod, [((2, 3), normal)]),
    ("cumprod with zero", lambda a: ops.cumprod(a, axis=0), [((4, 2), with_zero)]),
    ("diff", lambda a: ops.diff(a, n=2, axis=0), [((4, 3), normal)]),
    ("average", ops.average, [((3, 4), normal)]),
    ("average weights", lambda a, w: ops.average(a, axis=1, weights=w),
     [((3, 4), normal), ((4,), positive)]),
    ("average full weights", lambda a, w: ops.average(a, weights=w),
     [((3, 4), normal), ((3, 4), positive)]),
    ("ptp", lambda a: ops.ptp(a, axis=0), [((3, 4), distinct)]),
    ("median even", lambda a: ops.median(a, axis=1), [((3, 4), distinct)]),
    ("median odd keepdims", lambda a: ops.median(a, axis=0, keepdims=True),
     [((3, 4), distinct)]),
    ("quantile", lambda a: ops.quantile(a, np.array([0.1, 0.5, 0.9]), axis=(0, 2)),
     [((3, 2, 4), distinct)]),
    ("quantile midpoint", lambda a: ops.quantile(a, 0.3, method="midpoint"),
     [((3, 4), distinct)]),
    ("percentile", lambda a: ops.percentile(a, 30.0, axis=-1), [((2, 5), distinct)]),
    ("select", lambda a, b: ops.select([a > 0.5, a < -0.5], [a, b], default=1.0),
     [((3, 4), normal), ((4,), normal)]),
    # segments
    ("segment_sum", lambda d: ops.segment_sum(d, IDS), [((5, 2), normal)]),
    ("segment_sum dropped ids", lambda d: ops.segment_sum(d, IDS, num_segments=2),
     [((5, 2), normal)]),
    ("segment_max", lambda d: ops.segment_max(d, IDS, num_segments=3), [((5, 2), distinct)]),
    ("segment_min", lambda d: ops.segment_min(d, IDS), [((5, 2), distinct)]),
    ("segment_prod", lambda d: ops.segment_prod(d, IDS), [((5, 2), with_zero)]),
    # NaN-ignoring reductions
    ("nansum", lambda a: ops.nansum(a, axis=1), [((4, 3), with_nan)]),
    ("nanmean", lambda a: ops.nanmean(a, axis=-1, keepdims=True), [((4, 3), with_nan)]),
    ("nanmax", lambda a: ops.nanmax(a, axis=1), [((4, 3), with_nan)]),
    ("nanmin", ops.nanmin, [((4, 3), with_nan)]),
    ("nanprod", lambda a: ops.nanprod(a, axis=0), [((4, 3), with_nan)]),
    ("nanvar", lambda a: ops.nanvar(a, axis=1), [((4, 3), with_nan)]),
    ("nanstd", ops.nanstd, [((4, 3), with_nan)]),
    ("nanmedian", lambda a: ops.nanmedian(a, axis=1), [((4, 4), with_nan)]),
    ("nanquantile", lambda a: ops.nanquantile(a, np.array([0.2, 0.7]), axis=1),
     [((4, 3), with_nan)]),
    ("nanpercentile", lambda a: ops.nanpercentile(a, 60.0), [((4, 3), with_nan)]),
    ("nancumsum", lambda a: ops.nancumsum(a, axis=1), [((4, 3), with_nan)]),
    ("nancumprod", lambda a: ops.nancumprod(a, axis=0), [((4, 3), with_nan)]),
]
# gradients computed by NumPy (exact at zeros): no second derivative through them
FIRST_ORDER_ONLY = {"cumprod with zero", "segment_prod", "nanprod"}


def sample(name, specs):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    return rng, [sampler(rng, shape).astype(np.float64) for shape, sampler in specs]


@pytest.mark.parametrize("name, fn, specs", CASES, ids=[c[0] for c in CASES])
def test_tape_gradient_matches_central_differences(gradcheck, name, fn, specs):
    check_central_differences(gradcheck, name, fn, specs, nan_as_zero=True)


@pytest.mark.parametrize("name, fn, specs", CASES, ids=[c[0] for c in CASES])
def test_float32_inputs_give_float32_results_and_gradients(name, fn, specs):
    _, arrays = sample(name, specs)
    inputs = [Tensor(a.astype(np.float32)) for a in arrays]
    with GradientTape() as tape:
        tape.watch(inputs)
        out = fn(*inputs)
    assert out.dtype == np.float32
    for x, g in zip(inputs, tape.gradient(out, inputs)):
        assert g.dtype == np.float32 and g.shape == x.shape


SECOND_ORDER = [c for c in CASES if c[0] not in FIRST_ORDER_ONLY]


@pytest.mark.parametrize("name, fn, specs", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_hessian_vector_product_matches_finite_differences(name, fn, specs):
    rng, arrays = sample(name, specs)
    upstream = rng.standard_normal(np.shape(fn(*[Tensor(a) for a in arrays])))
    vectors = [np.nan_to_num(rng.standard_normal(a.shape) * 0.01 * (~np.isnan(a)))
               for a in arrays]
    got = hvp(fn, arrays, upstream, vectors)
    want = numeric_hvp(fn, arrays, upstream, vectors)
    for i, (g, w) in enumerate(zip(got, want)):
        w = np.nan_to_num(w)
        if g is None:
            np.testing.assert_allclose(w, 0, atol=1e-6, err_msg=f"input {i}")
        else:
            np.testing.assert_allclose(np.nan_to_num(g.numpy()), w, rtol=1e-4, atol=1e-6,
                                       err_msg=f"input {i}")


@pytest.mark.parametrize("name", sorted(FIRST_ORDER_ONLY))
def test_numpy_gradients_refuse_a_second_derivative(name):
    _, fn, specs = next(c for c in CASES if c[0] == name)
    rng, arrays = sample(name, specs)
    upstream = rng.standard_normal(np.shape(fn(*[Tensor(a) for a in arrays])))
    with pytest.raises(NotImplementedError, match="not differentiable again"):
        hvp(fn, arrays, upstream, [np.ones_like(a) for a in arrays])


def test_scatter_update_gives_a_repeated_index_gradient_only_to_the_last_write():
    x, u = Tensor(np.zeros((3,))), Tensor(np.array([1.0, 2.0, 3.0]))
    with GradientTape() as tape:
        tape.watch([x, u])
        y = ops.scatter_update(x, np.array([[1], [1], [0]]), u)
    gx, gu = tape.gradient(y, [x, u], output_gradients=Tensor(np.array([10.0, 20.0, 30.0])))
    assert y.numpy().tolist() == [3.0, 2.0, 0.0]
    assert gx.numpy().tolist() == [0.0, 0.0, 30.0]
    assert gu.numpy().tolist() == [0.0, 20.0, 10.0]


def test_scatter_update_max_shares_a_tie_between_input_and_update():
    x, u = Tensor(np.array([1.0, 5.0])), Tensor(np.array([5.0, 0.0]))
    with GradientTape() as tape:
        tape.watch([x, u])
        y = ops.scatter_update(x, np.array([[1], [0]]), u, reduction="max")
    gx, gu = tape.gradient(y, [x, u])
    assert y.numpy().tolist() == [1.0, 5.0]
    assert gx.numpy().tolist() == [1.0, 0.5] and gu.numpy().tolist() == [0.5, 0.0]


def test_pad_reflect_folds_the_gradient_back_onto_the_copied_values():
    x = Tensor(np.array([1.0, 2.0, 3.0]))
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.pad(x, (2, 1), mode="reflect")   # [3, 2, 1, 2, 3, 2]
    assert y.numpy().tolist() == [3.0, 2.0, 1.0, 2.0, 3.0, 2.0]
    assert tape.gradient(y, x).numpy().tolist() == [1.0, 3.0, 2.0]


def test_segment_max_shares_a_tie_and_median_interpolates():
    d = Tensor(np.array([1.0, 5.0, 5.0, 2.0]))
    with GradientTape(persistent=True) as tape:
        tape.watch(d)
        top = ops.segment_max(d, np.array([0, 0, 0, 1]))
        mid = ops.median(d)   # (2 + 5) / 2 between the 2nd and 3rd smallest
    assert tape.gradient(top, d).numpy().tolist() == [0.0, 0.5, 0.5, 1.0]
    assert tape.gradient(mid, d).numpy().tolist() == [0.0, 0.5, 0.0, 0.5]


def test_index_results_have_no_gradient():
    x = Tensor(np.array([[0.3, -1.0, 2.0]]))
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        picked = [ops.argsort(x), ops.top_k(x, 1)[1], ops.nanargmax(x),
                  ops.count_nonzero(x), ops.searchsorted(np.array([0.0, 1.0]), x[0])]
    for p in picked:
        assert p.dtype == np.int32 and tape.gradient(p, x) is None
