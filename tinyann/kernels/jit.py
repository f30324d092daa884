"""numba on first use: the compiled set's kernels (tinyann/kernels/compiled) are compiled,
or loaded from the cache, when first called.

``import tinyann`` never imports numba (about 0.15-0.3 s): a :class:`Kernel` wraps
the Python function and compiles it on its first call. Compiled code is cached in
tinyann's cache folder, ``<cache>/numba`` (``$TINYANN_CACHE_DIR``, else
``$XDG_CACHE_HOME/tinyann``, else ``~/.cache/tinyann``; a temporary folder when
none of these is usable, e.g. no HOME or a read-only home), never beside the
installed sources, which may be read-only. A cache entry that cannot be loaded is
removed and the kernel compiled afresh.

Kernels and helpers are compiled with ``error_model="numpy"``: a division by zero gives
inf or nan, as the reference's NumPy does, instead of Python's check before every
division, a branch that stops LLVM from vectorizing the loop (the recurrent kernels'
gate loops measured 5-12x slower with it). numba's cache does not key on this option:
a cache entry made before it is reused until its kernel's source file changes.

Kernels loop with ``prange``: numba then knows the arrays of one iteration do not
overlap and vectorizes the loop (Adam's update measured 6x faster than the same
loop with ``range``), whether one thread runs it or several. How many threads run
is :func:`set_threads`, default 1: with two, numba's worker threads and OpenBLAS's
wait on each other between kernels and products (the textbook CNN measured 62 ms a
step against 6.5 ms with one, on 2 cores). Kernels are compiled ``nogil``: two
Python threads may run them at once (tinyann/trainers/half_batches.py).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import threading

_lock = threading.Lock()
_numba = None
_threads = 1

#: kernels write their parallel loops ``for i in prange(n)``: ``range`` until numba
#: compiles them, ``numba.prange`` from then on (numba may not be installed)
prange = range


def available() -> bool:
    """Whether numba is installed (without importing it)."""
    try:
        return importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):  # blocked: sys.modules["numba"] = None
        return False


def cache_dir() -> str:
    """A writable folder for numba's cache (made if missing)."""
    explicit = os.environ.get("TINYANN_CACHE_DIR")
    xdg = os.environ.get("XDG_CACHE_HOME")
    home = os.environ.get("HOME")
    candidates = []
    if explicit:
        candidates.append(os.path.join(os.path.expanduser(explicit), "numba"))
    elif xdg and os.path.isabs(xdg):
        candidates.append(os.path.join(xdg, "tinyann", "numba"))
    elif home:
        candidates.append(os.path.join(home, ".cache", "tinyann", "numba"))
    user = getattr(os, "getuid", lambda: "user")()
    candidates.append(os.path.join(tempfile.gettempdir(), f"tinyann-{user}", "numba"))
    for folder in candidates:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK | os.X_OK):
            return folder
    raise OSError(f"no writable folder for compiled kernels among {candidates}")


def _load_numba():
    """numba, configured: the cache folder, the thread count."""
    global _numba
    with _lock:
        if _numba is None:
            import numba
            from numba.core import config

            config.CACHE_DIR = cache_dir()
            numba.set_num_threads(min(_threads, config.NUMBA_NUM_THREADS))
            _per_thread.threads = _threads
            _numba = numba
    return _numba


_per_thread = threading.local()


def thread_setup() -> None:
    """Applies the thread count to the calling thread (numba keeps it per thread: a
    thread of tinyann's own, such as the half-batch worker, starts at numba's default,
    all the cores). A no-op until numba is loaded, and once done in a thread."""
    if _numba is not None and getattr(_per_thread, "threads", None) != _threads:
        _numba.set_num_threads(min(_threads, _numba.config.NUMBA_NUM_THREADS))
        _per_thread.threads = _threads


def set_threads(count: int) -> None:
    """How many threads the compiled kernels use (from the next call on)."""
    global _threads
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"Expected a positive integer thread count. Received: {count!r}")
    _threads = count
    if _numba is not None:
        _numba.set_num_threads(min(count, _numba.config.NUMBA_NUM_THREADS))
        _per_thread.threads = count


class Kernel:
    """``py_func`` compiled by numba on its first call (cached; ``parallel``: numba's
    parallel loops, which also let it vectorize them, at 2-5x the compile time)."""

    def __init__(self, py_func, parallel=True):
        self.py_func = py_func
        self.parallel = parallel
        self.__name__ = py_func.__name__
        self.__doc__ = py_func.__doc__
        self._dispatcher = None

    def __call__(self, *args):
        dispatcher = self._dispatcher
        if dispatcher is None:
            return self._first_call(args)
        return dispatcher(*args)

    def _first_call(self, args):
        numba = _load_numba()
        with _lock:
            dispatcher = self._dispatcher  # compiled meanwhile by another thread
            if dispatcher is None:
                dispatcher = self._dispatcher = self._compile(numba, args)
        return dispatcher(*args)

    def _compile(self, numba, args):
        module = self.py_func.__globals__
        module["prange"] = numba.prange
        _compile_helpers(numba, module)
        options = {"parallel": self.parallel, "cache": True, "nogil": True,
                   "error_model": "numpy"}
        dispatcher = numba.njit(**options)(self.py_func)
        try:
            dispatcher.compile(tuple(numba.typeof(a) for a in args))
        except Exception:
            # an unreadable cache entry (cut short, another numba's): remove this
            # function's entries and compile without them
            dispatcher._cache.flush()
            dispatcher = numba.njit(**options)(self.py_func)
            dispatcher.compile(tuple(numba.typeof(a) for a in args))
        return dispatcher


class Helper:
    """A small function that kernels call (an activation, say): plain Python until a
    kernel of its module compiles, then compiled with it."""

    def __init__(self, py_func):
        self.py_func = py_func
        self.__name__ = py_func.__name__
        self.__doc__ = py_func.__doc__

    def __call__(self, *args):
        return self.py_func(*args)


def _compile_helpers(numba, module: dict) -> None:
    """The helpers a module names become numba functions (LLVM inlines them into the
    kernels), and so do the helpers theirs name; from Python they run as before."""
    for name, value in list(module.items()):
        if isinstance(value, Helper):
            module[name] = numba.njit(cache=True, nogil=True,
                                      error_model="numpy")(value.py_func)
            if value.py_func.__globals__ is not module:
                _compile_helpers(numba, value.py_func.__globals__)


def helper(py_func):
    """Decorator: a :class:`Helper`, callable from the module's kernels."""
    return Helper(py_func)


def kernel(py_func=None, *, parallel=True):
    """Decorator: a :class:`Kernel` (``@kernel`` or ``@kernel(parallel=False)``)."""
    if py_func is None:
        return lambda f: Kernel(f, parallel)
    return Kernel(py_func, parallel)
