"""The kernel layer: every computation of a layer, loss or optimizer, in two sets.

``tinyann.kernels.reference`` is the textbook math in plain NumPy (the specification);
``tinyann.kernels.fast`` has the same functions with the same signatures, fast
(buffers, memory layouts, in-place updates). One switch picks the set that
layers, losses and optimizers call::

    tinyann.config.set_kernels("reference")   # or TINYANN_KERNELS=reference
    tinyann.kernels.dense_forward(x, kernel, bias)  # the active set's function

``fast`` (the default) names the fastest set available; ``numpy`` names the
NumPy set itself (today the same). A new set (say compiled kernels) is a package
registered in ``_SETS`` whose ``MODULES`` define any of ``OPS``; it takes the rest
from the base set named beside it.

Why module attributes: ``set_kernels`` binds the chosen functions here once, so
a call ``kernels.relu_forward(...)`` costs one attribute lookup, as a direct call
to the function would (the seed model's training step is about 50 microseconds).

``FUSIONS`` declares which producer/consumer pairs run a fused computation; the
model graph and ``compile`` read it instead of looking at layer types.

Adding an op: write the textbook version (docstring with shapes and math) in
``kernels/reference/<family>.py`` and its name in ``OPS``; if a faster form pays off,
the same signature in ``kernels/fast/<family>.py``; then a row of shapes in
tests/kernels/test_fast_matches_reference.py and, for a backward, a check in
tests/kernels/test_reference_gradients.py.
"""

from __future__ import annotations

import importlib
import os

# every op, by family; each set defines them (or inherits them from its BASE set)
OPS = (
    # dense: z = x @ W + b and its gradients
    "dense_kernel_order", "dense_forward", "dense_backward",
    # conv2d by im2col / col2im
    "conv2d_forward", "conv2d_backward",
    # conv2d then max pooling, one op (the graph's ReLU convolution + pooling fusion)
    "conv2d_max_pool_forward", "conv2d_max_pool_backward",
    # the transposed convolution (the gradient of a convolution by its input, forward)
    "conv2d_transpose_forward", "conv2d_transpose_backward",
    # pooling
    "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
    "global_max_pool2d_forward", "global_max_pool2d_backward",
    "global_avg_pool2d_forward", "global_avg_pool2d_backward",
    # activations: forward(x, out) and the derivative from the output, backward(y, grad, out)
    "linear_forward", "linear_backward", "relu_forward", "relu_backward",
    "sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward",
    "softmax_forward", "softmax_backward", "exponential_forward", "exponential_backward",
    "relu6_forward", "relu6_backward", "leaky_relu_forward", "leaky_relu_backward",
    "elu_forward", "elu_backward", "selu_forward", "selu_backward",
    "celu_forward", "celu_backward", "hard_sigmoid_forward", "hard_sigmoid_backward",
    "sparse_sigmoid_forward", "sparse_sigmoid_backward",
    "log_sigmoid_forward", "log_sigmoid_backward", "hard_tanh_forward", "hard_tanh_backward",
    "softplus_forward", "softplus_backward", "sparse_plus_forward", "sparse_plus_backward",
    "squareplus_forward", "squareplus_backward", "softsign_forward", "softsign_backward",
    "hard_shrink_forward", "hard_shrink_backward", "soft_shrink_forward", "soft_shrink_backward",
    "log_softmax_forward", "log_softmax_backward", "sparsemax_forward", "sparsemax_backward",
    # ... and those whose derivative needs the input too, backward(x, y, grad, out)
    "relu_options_forward", "relu_options_backward", "gelu_forward", "gelu_backward",
    "silu_forward", "silu_backward", "hard_silu_forward", "hard_silu_backward",
    "mish_forward", "mish_backward", "tanh_shrink_forward", "tanh_shrink_backward",
    "threshold_forward", "threshold_backward", "glu_forward", "glu_backward",
    # recurrent layers: the whole sequence forward, backward through time; embeddings
    "simple_rnn_forward", "simple_rnn_backward", "lstm_forward", "lstm_backward",
    "gru_forward", "gru_backward", "embedding_forward", "embedding_backward",
    # ... with the states at both ends (initial_state, return_state, stateful), in pairs
    "simple_rnn_forward_with_state", "simple_rnn_backward_with_state",
    "lstm_forward_with_state", "lstm_backward_with_state",
    "gru_forward_with_state", "gru_backward_with_state",
    # softmax (sigmoid) + cross-entropy
    "softmax_cross_entropy", "softmax_cross_entropy_grad", "sparse_softmax_cross_entropy",
    # optimizer updates, in place on the weights and slots; how many weights at a time
    "update_block", "weight_decay_update", "sgd_update", "rmsprop_update", "adam_update",
    "adamax_update", "adagrad_update", "adadelta_update", "nadam_update",
    "lion_update", "ftrl_update", "lamb_update", "adafactor_update",
    # image resizing (half-pixel centers) and its gradient
    "resize_forward", "resize_backward",
    # affine image transforms (rotation, zoom, translation) with TF's fill modes
    "affine_sampling", "affine_transform_forward", "affine_transform_backward",
    # depthwise convolution (each channel its own filters), the base of SeparableConv
    "depthwise_conv2d_forward", "depthwise_conv2d_backward",
    # ... and the 1 x 1 convolution after it (a product over the pixels)
    "pointwise_forward", "pointwise_backward",
    # Conv3D and 3-D pooling over volumes (the reference's im2col; no faster form yet)
    "conv3d_forward", "conv3d_backward", "max_pool3d_forward", "max_pool3d_backward",
    "avg_pool3d_forward", "avg_pool3d_backward",
)

# name -> (module, the set it takes missing ops from)
_SETS = {
    "reference": ("tinyann.kernels.reference", None),
    "numpy": ("tinyann.kernels.fast", "reference"),
    "compiled": ("tinyann.kernels.compiled", "numpy"),
}
# "fast": the first of these sets that can be loaded (compiled needs numba)
_FAST = ("compiled", "numpy")
_VALID = ("fast", "compiled", "numpy", "reference")
DEFAULT = "fast"

# (producer kind, consumer kind) -> the fused computation, by name.
#  * "conv2d+relu" then "max_pooling2d": the op conv2d_max_pool (the convolution
#    pooled), then ReLU on the pooled quarter of the pixels (max and ReLU commute; the
#    first maximum of a window is the same before and after ReLU); backward: ReLU's
#    derivative on the pooled gradient, then conv2d_max_pool's backward.
#  * an output activation then its matching loss: the loss gives dL/dz directly,
#    ``(p - targets) * scale``, and the layer's backward skips the activation.
FUSIONS = {
    ("conv2d+relu", "max_pooling2d"): "relu_after_max_pool",
    ("softmax", "sparse_categorical_crossentropy"): "softmax_cross_entropy_grad",
    ("softmax", "categorical_crossentropy"): "softmax_cross_entropy_grad",
    ("sigmoid", "binary_crossentropy"): "softmax_cross_entropy_grad",
}

_active = None  # the name given to set_kernels
_running = None  # the set it resolved to


def fused_activation(loss_name):
    """The output activation whose derivative loss ``loss_name`` folds into its
    gradient (per ``FUSIONS``), or None."""
    for (producer, consumer), _ in FUSIONS.items():
        if consumer == loss_name:
            return producer
    return None


def layer_fusion(producer_kind, consumer_kind):
    """The fused computation of two layers run one after the other, or None."""
    if producer_kind is None or consumer_kind is None:
        return None
    return FUSIONS.get((producer_kind, consumer_kind))


def _load(name):
    """The functions of set ``name``, with those it lacks from its base sets."""
    package, base = _SETS[name]
    functions = _load(base) if base is not None else {}
    for module_name in importlib.import_module(package).MODULES:
        module = importlib.import_module(f"{package}.{module_name}")
        functions.update({op: getattr(module, op) for op in OPS if hasattr(module, op)})
    return functions


def functions_of(name) -> dict:
    """``{op name: function}`` of one kernel set (``'fast'``, ``'numpy'`` or
    ``'reference'``), whichever is selected: for comparing sets side by side."""
    return _load(_resolve(name))


def _resolve(name):
    if not isinstance(name, str) or name.lower() not in _VALID:
        raise ValueError(
            f"Unknown kernel set {name!r}. Expected one of {list(_VALID)} "
            "(set by tinyann.config.set_kernels or the TINYANN_KERNELS environment variable)."
        )
    name = name.lower()
    if name != "fast":
        return name
    for candidate in _FAST:
        try:
            _load(candidate)
        except ImportError:
            continue
        return candidate
    return "reference"


def set_kernels(name) -> None:
    """Selects the kernel set every layer, loss and optimizer calls from now on:
    ``'fast'`` (default), ``'numpy'`` or ``'reference'``."""
    global _active, _running
    resolved = _resolve(name)
    functions = _load(resolved)
    missing = [op for op in OPS if op not in functions]
    if missing:
        raise ImportError(f"Kernel set {resolved!r} lacks the ops {missing}")
    globals().update(functions)
    _active, _running = name.lower(), resolved


def kernels() -> str:
    """The name of the selected kernel set (as given: 'fast', 'numpy' or 'reference')."""
    return _active


def describe() -> str:
    """One line for diagnostics: the set that runs, and where the compiled one stands."""
    from tinyann.kernels import jit

    running = kernel_set()
    if not jit.available():
        numba = "numba is not installed: pip install 'tinyann[fast]' for compiled kernels"
    else:
        from importlib.metadata import version

        numba = f"numba {version('numba')}, cache {jit.cache_dir()}"
    return f"Kernels: {running} (TINYANN_KERNELS={_active}; {numba})"


def kernel_set() -> str:
    """The set actually running ('compiled', 'numpy' or 'reference'; 'fast' resolved
    when it was selected)."""
    return _running


set_kernels(os.environ.get("TINYANN_KERNELS", "").strip() or DEFAULT)
