"""The SSE control register (MXCSR) read and written from compiled code (numba).

``tinyann.utils.denormals`` flushes subnormal floats to zero around an optimizer's
update by setting two bits of MXCSR. Through glibc (``fegetenv`` / ``fesetenv`` by
ctypes) that costs about 2.4 us a step, more than the rest of ``apply_gradients``
in a tape loop; these two compiled functions (LLVM's ``stmxcsr`` / ``ldmxcsr``
intrinsics) take 0.2 us. Imported only on x86-64, once numba is loaded for some
kernel (never to load it).
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from tinyann.kernels.jit import _load_numba

_load_numba()   # (the cache folder: configured before the functions below compile)

_FTZ_DAZ = 0x8040  # bit 15 flush-to-zero, bit 6 denormals-are-zero
_BYTE_POINTER = ir.IntType(8).as_pointer()


def _call_on_slot(builder, name, slot):
    function = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.VoidType(), [_BYTE_POINTER]), name)
    builder.call(function, [builder.bitcast(slot, _BYTE_POINTER)])


@intrinsic
def _stmxcsr(typingctx):
    def codegen(context, builder, signature, args):
        slot = cgutils.alloca_once(builder, ir.IntType(32))
        _call_on_slot(builder, "llvm.x86.sse.stmxcsr", slot)
        return builder.load(slot)
    return types.uint32(), codegen


@intrinsic
def _ldmxcsr(typingctx, value):
    def codegen(context, builder, signature, args):
        slot = cgutils.alloca_once(builder, ir.IntType(32))
        builder.store(args[0], slot)
        _call_on_slot(builder, "llvm.x86.sse.ldmxcsr", slot)
        return context.get_dummy_value()
    return types.none(types.uint32), codegen


@njit(cache=True, nogil=True)
def flush() -> int:
    """Sets flush-to-zero and denormals-are-zero; returns MXCSR as it was."""
    before = _stmxcsr()
    if before & _FTZ_DAZ != _FTZ_DAZ:
        _ldmxcsr(before | types.uint32(_FTZ_DAZ))
    return before


@njit(cache=True, nogil=True)
def restore(value) -> None:
    """Puts back MXCSR as ``flush`` found it."""
    _ldmxcsr(types.uint32(value))
