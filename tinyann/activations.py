"""Activation functions: Keras 3's ``keras.activations``, each with a hand-written derivative.

Each activation is an object with ``__call__(x, ...)`` (Keras's function form, with its
arguments: ``relu(x, max_value=6.0)``) and ``forward(x, out)`` / ``backward(y, grad,
out, x=None)`` used by layers. Most give their derivative from their output ``y``, so
a layer caches its output and nothing else (ReLU: zero where the output is zero;
sigmoid: y(1-y); tanh: 1-y^2; softmax: y * (g - sum(g*y))), and computes it in place
(``forward(z, z)``). Where the output does not tell the slope (gelu, silu, mish,
hard_silu, tanh_shrink, glu, threshold, relu with arguments, a user's function),
``needs_input`` is True: the layer writes ``y`` into a new array, keeps its
pre-activation ``z`` too, and passes it back: ``backward(y, grad, out, x=z)``.

``out`` may be ``x`` in ``forward`` (output-only activations) and ``grad`` in
``backward`` (layers back-propagate in place), so an implementation reads its inputs
before it overwrites ``out``. The math is the ops ``<name>_forward`` /
``<name>_backward`` of the selected kernel set (tinyann.kernels; formulas in
tinyann/kernels/reference/activations.py).

The function form returns an ndarray for arrays and a Tensor for a Tensor or Variable,
recorded on the open GradientTapes with the same derivative (a custom layer's
``call`` may use it).
"""

from __future__ import annotations

import numpy as np

from tinyann import _identifiers, kernels
from tinyann.autodiff.tape import GradientTape, record
from tinyann.autodiff.tensor import Tensor
from tinyann.variables import Variable

_REQUIRED = object()  # an argument without a default (threshold's)


class Activation:
    """Base class. ``name`` is what ``get_config`` writes and ``get`` reads."""

    name = "activation"
    # True: ``backward`` needs the input too (``x=``); layers then keep their pre-activation
    needs_input = False
    # the function form's arguments after x, with Keras's defaults
    defaults: dict = {}
    options: dict = {}

    def __call__(self, x, *args, **kwargs):
        activation = self.bind(*args, **kwargs) if args or kwargs else self
        if isinstance(x, (Tensor, Variable)):
            return _on_tapes(activation, x)
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype("float32")
        return activation.forward(x, activation.new_output(x))

    def forward(self, x, out):
        """Writes activation(x) into ``out`` (may be ``x`` itself) and returns it."""
        raise NotImplementedError

    def backward(self, y, grad, out, x=None):
        """dL/dx from the output ``y`` and dL/dy ``grad`` (and, with ``needs_input``,
        the input ``x``); written into ``out``.

        ``out`` may be ``grad`` itself (layers back-propagate in place), so an
        implementation must read ``grad`` before it overwrites ``out``."""
        raise NotImplementedError

    def output_shape(self, shape) -> tuple:
        """The output's shape for an input of ``shape`` (the same, but for glu)."""
        return tuple(shape)

    def new_output(self, x):
        """A new array for ``forward(x, ...)``, in ``x``'s memory order (glu: its shape)."""
        shape = self.output_shape(x.shape)
        return np.empty_like(x) if shape == x.shape else np.empty(shape, x.dtype)

    @staticmethod
    def grad_buffer(grad, x):
        """Where ``backward`` may write dL/dx: ``grad`` itself (a layer's to overwrite)
        when it is shaped like ``x``, else a new array (glu)."""
        return grad if grad.shape == x.shape else np.empty_like(x)

    def bind(self, *args, **kwargs):
        """This activation with the function form's arguments (``relu.bind(max_value=6.0)``;
        itself at the defaults). Its ``name`` then shows them: no config takes it."""
        fn = f"{self.name}()"
        if len(args) > len(self.defaults):
            raise TypeError(f"{fn} takes {len(self.defaults) + 1} positional arguments but "
                            f"{len(args) + 1} were given")
        options = dict(zip(self.defaults, args))
        for key, value in kwargs.items():
            if key not in self.defaults:
                raise TypeError(f"{fn} got an unexpected keyword argument {key!r}")
            if key in options:
                raise TypeError(f"{fn} got multiple values for argument {key!r}")
            options[key] = value
        options = {**self.defaults, **options}
        missing = [key for key, value in options.items() if value is _REQUIRED]
        if missing:
            raise _missing(fn, missing)
        if all(_same(options[key], self.defaults[key]) for key in options):
            return self
        return self._Configured(options)

    def __repr__(self):
        return f"<activation {self.name}>"


def _same(a, b):
    """Whether an argument is at its default (0 and 0.0 are; None only is None)."""
    if a is None or b is None:
        return a is b
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _missing(fn, names):
    listed = " and ".join(repr(n) for n in names)
    plural = "s" if len(names) > 1 else ""
    return TypeError(f"{fn} missing {len(names)} required positional argument{plural}: "
                     f"{listed}. Call it with them, e.g. in a layer "
                     f"activation=lambda x: keras.activations.{fn[:-2]}(x, ...)")


def _on_tapes(activation, x):
    """``activation(x)`` for a Tensor or Variable: a Tensor, recorded on the open tapes
    with the hand-written derivative as its gradient (NumPy: differentiable once)."""
    a = x.value
    if not np.issubdtype(a.dtype, np.floating):
        a = a.astype("float32")
    y = activation.forward(a, activation.new_output(a))
    needs_input = activation.needs_input

    def vjp(g):
        g = np.broadcast_to(np.asarray(g, dtype=y.dtype), y.shape)
        out = np.empty(a.shape, y.dtype)
        if needs_input:
            return (activation.backward(y, g, out, x=a),)
        return (activation.backward(y, g, out),)

    return record(y, (x,), vjp, label=f"keras.activations.{activation.name}")


def _activation(class_name, name, math, defaults=None, needs_input=False, options_op=None,
                check=None, output_shape=None):
    """An Activation class computed by the ops ``<name>_forward`` / ``<name>_backward``
    of the selected kernel set (one attribute lookup on tinyann.kernels per call: the
    switch rebinds them there).

    ``defaults``: the function form's arguments (``relu(x, max_value=...)``); with other
    values it runs ``<options_op or name>_forward(x, out, **options)`` (relu's
    ``relu_options`` needs the input). ``check(options)`` refuses values whose
    derivative the ops cannot give. ``output_shape``: the method, where the shape changes.
    """
    forward_op, backward_op = f"{name}_forward", f"{name}_backward"
    defaults = dict(defaults or {})
    required = [key for key, value in defaults.items() if value is _REQUIRED]

    def forward(self, x, out):
        return getattr(kernels, forward_op)(x, out)

    if needs_input:
        def backward(self, y, grad, out, x=None):
            return getattr(kernels, backward_op)(x, y, grad, out)
    else:
        def backward(self, y, grad, out, x=None):
            return getattr(kernels, backward_op)(y, grad, out)

    if required:  # threshold: nothing to compute without its arguments
        def forward(self, x, out):  # noqa: F811
            raise _missing(f"{name}()", required)

    methods = {"__doc__": math, "name": name, "forward": forward, "backward": backward,
               "needs_input": needs_input, "defaults": defaults}
    if output_shape is not None:
        methods["output_shape"] = output_shape
    cls = type(class_name, (Activation,), methods)
    cls._Configured = _configured_class(cls, options_op or name,
                                        needs_input or options_op is not None, check)
    return cls


def _configured_class(base, op, needs_input, check):
    """The class of ``base``'s activations with arguments: its ops called with them."""
    forward_op, backward_op = f"{op}_forward", f"{op}_backward"

    def __init__(self, options):
        if check is not None:
            check(options)
        self.options = options
        arguments = ", ".join(f"{k}={v!r}" for k, v in options.items()
                              if not _same(v, base.defaults[k]))
        # not the plain name: no fusion (tinyann.kernels.FUSIONS) nor config takes it
        self.name = f"{base.name}({arguments})"

    def forward(self, x, out):
        return getattr(kernels, forward_op)(x, out, **self.options)

    if needs_input:
        def backward(self, y, grad, out, x=None):
            return getattr(kernels, backward_op)(x, y, grad, out, **self.options)
    else:
        def backward(self, y, grad, out, x=None):
            return getattr(kernels, backward_op)(y, grad, out, **self.options)

    return type(base.__name__, (base,), {"__init__": __init__, "forward": forward,
                                         "backward": backward, "needs_input": needs_input})


def _at_least(key, low, strict=False):
    """A check that option ``key`` is >= ``low`` (> with ``strict``): below it the
    output no longer tells the slope."""
    def check(options):
        value = options[key]
        if value < low or (strict and value == low):
            sign = ">" if strict else ">="
            raise ValueError(f"tinyann computes this activation's derivative from its "
                             f"output, which needs {key} {sign} {low}. Received: {key}={value}")
    return check


def _axis(options):
    if not isinstance(options["axis"], (int, np.integer)):
        raise ValueError(f"Expected an integer axis. Received: axis={options['axis']!r}")


def _half_along_axis(self, shape):
    """glu's output shape: half of the input's along ``axis`` (Keras's error for an odd size)."""
    axis = self.options.get("axis", -1)
    shape = list(shape)
    if shape[axis] is not None:
        if shape[axis] % 2:
            raise ValueError("axis size must be divisible by 2. "
                             f"Received: x.shape={tuple(shape)} with axis={axis}")
        shape[axis] //= 2
    return tuple(shape)


Linear = _activation("Linear", "linear", "y = x; dL/dx = g.")
ReLU = _activation("ReLU", "relu", "y = max(x, 0); dL/dx = g where y > 0, else 0.",
                   {"negative_slope": 0.0, "max_value": None, "threshold": 0.0},
                   options_op="relu_options")
ReLU6 = _activation("ReLU6", "relu6", "y = min(max(x, 0), 6); dL/dx = g where 0 < y < 6.")
LeakyReLU = _activation("LeakyReLU", "leaky_relu",
                        "y = x (x > 0), s x else; dL/dx = g, or g s where y <= 0.",
                        {"negative_slope": 0.2}, check=_at_least("negative_slope", 0))
ELU = _activation("ELU", "elu", "y = x (x > 0), a (e^x - 1) else; dL/dx = g (y + a) where y <= 0.",
                  {"alpha": 1.0}, check=_at_least("alpha", 0))
SELU = _activation("SELU", "selu", "y = scale elu(x, alpha); Klambauer et al.'s constants.")
CELU = _activation("CELU", "celu", "y = x (x >= 0), a (e^(x/a) - 1) else; dL/dx = g (y/a + 1).",
                   {"alpha": 1.0}, check=_at_least("alpha", 0, strict=True))
Sigmoid = _activation("Sigmoid", "sigmoid", "y = 1 / (1 + e^-x); dL/dx = g y (1 - y).")
HardSigmoid = _activation("HardSigmoid", "hard_sigmoid", "y = clip(x / 6 + 1/2, 0, 1).")
SparseSigmoid = _activation("SparseSigmoid", "sparse_sigmoid", "y = clip((x + 1) / 2, 0, 1).")
LogSigmoid = _activation("LogSigmoid", "log_sigmoid", "y = log sigmoid(x); dL/dx = g (1 - e^y).")
Tanh = _activation("Tanh", "tanh", "y = tanh(x); dL/dx = g (1 - y^2).")
HardTanh = _activation("HardTanh", "hard_tanh", "y = clip(x, -1, 1).")
TanhShrink = _activation("TanhShrink", "tanh_shrink", "y = x - tanh(x); dL/dx = g (x - y)^2.",
                         needs_input=True)
Softplus = _activation("Softplus", "softplus", "y = log(1 + e^x); dL/dx = g (1 - e^-y).")
SparsePlus = _activation("SparsePlus", "sparse_plus",
                         "y = 0, (x + 1)^2 / 4, x for x <= -1, |x| < 1, x >= 1.")
Squareplus = _activation("Squareplus", "squareplus", "y = (x + sqrt(x^2 + b)) / 2.", {"b": 4},
                         check=_at_least("b", 0))
Softsign = _activation("Softsign", "softsign", "y = x / (1 + |x|); dL/dx = g (1 - |y|)^2.")
HardShrink = _activation("HardShrink", "hard_shrink", "y = x where |x| > threshold, else 0.",
                         {"threshold": 0.5})
SoftShrink = _activation("SoftShrink", "soft_shrink",
                         "y = x - threshold sign(x) where |x| > threshold, else 0.",
                         {"threshold": 0.5})
Exponential = _activation("Exponential", "exponential", "y = e^x; dL/dx = g y.")
Softmax = _activation("Softmax", "softmax",
                      "Softmax over the last axis; dL/dx = y (g - sum(g y)).", {"axis": -1})
LogSoftmax = _activation("LogSoftmax", "log_softmax",
                         "y = x - logsumexp(x) over the last axis; dL/dx = g - e^y sum(g).",
                         {"axis": -1})
Sparsemax = _activation("Sparsemax", "sparsemax",
                        "The projection onto the simplex: y = max(x - tau(x), 0).",
                        {"axis": -1}, check=_axis)
GELU = _activation("GELU", "gelu", "y = x Phi(x) (approximate: the tanh form).",
                   {"approximate": False}, needs_input=True)
SiLU = _activation("SiLU", "silu", "y = x sigmoid(x) (swish).", needs_input=True)
HardSiLU = _activation("HardSiLU", "hard_silu", "y = x hard_sigmoid(x) (hard_swish).",
                       needs_input=True)
Mish = _activation("Mish", "mish", "y = x tanh(softplus(x)).", needs_input=True)
Threshold = _activation("Threshold", "threshold", "y = x where x > threshold, else default_value.",
                        {"threshold": _REQUIRED, "default_value": _REQUIRED},
                        needs_input=True)
GLU = _activation("GLU", "glu", "y = a sigmoid(b), a and b the halves of x along axis.",
                  {"axis": -1}, needs_input=True, check=_axis, output_shape=_half_along_axis)

_CLASSES = (Linear, ReLU, ReLU6, LeakyReLU, ELU, SELU, CELU, Sigmoid, HardSigmoid,
            SparseSigmoid, LogSigmoid, Tanh, HardTanh, TanhShrink, Softplus, SparsePlus,
            Squareplus, Softsign, HardShrink, SoftShrink, Exponential, Softmax, LogSoftmax,
            Sparsemax, GELU, SiLU, HardSiLU, Mish, Threshold, GLU)
_ALL = {cls.name: cls for cls in _CLASSES}

linear = Linear()
relu = ReLU()
relu6 = ReLU6()
leaky_relu = LeakyReLU()
elu = ELU()
selu = SELU()
celu = CELU()
sigmoid = Sigmoid()
hard_sigmoid = HardSigmoid()
sparse_sigmoid = SparseSigmoid()
log_sigmoid = LogSigmoid()
tanh = Tanh()
hard_tanh = HardTanh()
tanh_shrink = TanhShrink()
softplus = Softplus()
sparse_plus = SparsePlus()
squareplus = Squareplus()
softsign = Softsign()
hard_shrink = HardShrink()
soft_shrink = SoftShrink()
exponential = Exponential()
softmax = Softmax()
log_softmax = LogSoftmax()
sparsemax = Sparsemax()
gelu = GELU()
silu = swish = SiLU()
hard_silu = hard_swish = HardSiLU()
mish = Mish()
threshold = Threshold()
glu = GLU()

# every name get() reads: Keras's, and its aliases swish and hard_swish (which
# serialize as silu and hard_silu, as in Keras)
_INSTANCES = {a.name: a for a in (
    linear, relu, relu6, leaky_relu, elu, selu, celu, sigmoid, hard_sigmoid, sparse_sigmoid,
    log_sigmoid, tanh, hard_tanh, tanh_shrink, softplus, sparse_plus, squareplus, softsign,
    hard_shrink, soft_shrink, exponential, softmax, log_softmax, sparsemax, gelu, silu,
    hard_silu, mish, threshold, glu)}
_INSTANCES.update(swish=silu, hard_swish=hard_silu)


def get(identifier) -> Activation:
    """An activation from a name (``'relu'``), ``None`` (linear), a dict or an instance."""
    if identifier is None:
        return linear
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, dict):
        identifier = identifier.get("config", identifier.get("class_name"))
        if isinstance(identifier, dict):
            identifier = identifier.get("name")
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _INSTANCES:
            return _INSTANCES[key]
        raise _identifiers.not_understood("activation function", identifier,
                                          f"one of {sorted(_INSTANCES)}")
    if callable(identifier):
        return _CallableActivation(identifier)
    raise _identifiers.not_understood(
        "activation function", identifier,
        f"a string, None or an activation. Received type {type(identifier).__name__}")


def serialize(activation) -> str:
    """The name of an activation (``'relu'``), as Keras serializes its built-ins."""
    return get(activation).name


def deserialize(config, custom_objects=None) -> Activation:
    """An activation from ``serialize``'s output: a name or a config dict."""
    return get(_identifiers.deserializable(config, "activation"))


class _CallableActivation(Activation):
    """A user's function (``activation=keras.ops.gelu``, or a lambda giving Keras's
    arguments: ``lambda x: keras.activations.relu(x, max_value=6.0)``). Its derivative
    comes from running it again on a GradientTape, so it must be written with
    ``keras.ops`` or ``keras.activations``; layers keep its input for that."""

    needs_input = True

    def __init__(self, fn):
        self.fn = fn
        self.name = getattr(fn, "__name__", "custom")

    def forward(self, x, out):
        out[...] = self.fn(x)
        return out

    def backward(self, y, grad, out, x=None):
        if x is None:
            raise NotImplementedError(
                f"Activation {self.name!r} is a plain function: tinyann needs a derivative, "
                "which it takes from the function's input: pass backward(y, grad, out, "
                "x=inputs), or subclass tinyann.activations.Activation and implement "
                "backward(y, grad, out).")
        inputs = Tensor(np.asarray(x))
        with GradientTape() as tape:
            tape.watch(inputs)
            outputs = self.fn(inputs)
        found = tape.gradient(outputs, inputs, output_gradients=np.asarray(grad)) if (
            isinstance(outputs, Tensor)) else None
        if found is None:
            raise NotImplementedError(
                f"Activation {self.name!r} is a plain function that tinyann cannot "
                "differentiate: it needs a derivative. Write it with keras.ops (its "
                "gradient is then taken on a GradientTape), or subclass "
                "tinyann.activations.Activation and implement backward(y, grad, out).")
        out[...] = np.asarray(found)
        return out
