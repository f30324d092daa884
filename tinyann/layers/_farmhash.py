"""FarmHash's 64-bit fingerprint (``farmhash::Fingerprint64``, the "na" variant) in
Python, and TensorFlow's hash-bucket and hash-crossing rules built on it.

Keras's ``Hashing`` layer is ``tf.strings.to_hash_bucket_fast``: the bucket of a string
is ``Fingerprint64(utf8 bytes) % num_buckets`` (unsigned). ``HashedCrossing`` is
``tf.sparse.cross_hashed``: the features' fingerprints (an int64 feature is used as
its own value) folded with ``FingerprintCat64`` from the key ``0xDECAFCAFFE``, then
``% num_buckets``. With a salt, Keras uses ``tf.strings.to_hash_bucket_strong``:
SipHash-2-4 keyed by the salt (``siphash24``). Everything is arithmetic modulo 2**64
on Python ints (masked with ``_M``), a few microseconds a string: these layers hash
vocabulary-sized data, not tensors on a training path. The values are checked
against TensorFlow in ``tests/layers/test_hashing.py`` (fixtures from
``make_lookup_facts.py``).
"""

from __future__ import annotations

_M = (1 << 64) - 1
# FarmHash's primes
K0 = 0xC3A5C85C97CB3127
K1 = 0xB492B66FBE98F273
K2 = 0x9AE16A3B2F90404F
# tf.sparse.cross_hashed's default hash key
CROSS_HASH_KEY = 0xDECAFCAFFE


def _fetch64(s: bytes, i: int) -> int:
    return int.from_bytes(s[i:i + 8], "little")


def _fetch32(s: bytes, i: int) -> int:
    return int.from_bytes(s[i:i + 4], "little")


def _rotate(v: int, shift: int) -> int:
    """Rotate right by ``shift`` bits (0 < shift < 64)."""
    return ((v >> shift) | (v << (64 - shift))) & _M


def _shift_mix(v: int) -> int:
    return v ^ (v >> 47)


def _hash_len16(u: int, v: int, mul: int) -> int:
    a = ((u ^ v) * mul) & _M
    a ^= a >> 47
    b = ((v ^ a) * mul) & _M
    b ^= b >> 47
    return (b * mul) & _M


def _hash_len0to16(s: bytes) -> int:
    n = len(s)
    if n >= 8:
        mul = K2 + n * 2
        a = (_fetch64(s, 0) + K2) & _M
        b = _fetch64(s, n - 8)
        c = (_rotate(b, 37) * mul + a) & _M
        d = ((_rotate(a, 25) + b) * mul) & _M
        return _hash_len16(c, d, mul)
    if n >= 4:
        mul = K2 + n * 2
        a = _fetch32(s, 0)
        return _hash_len16((n + (a << 3)) & _M, _fetch32(s, n - 4), mul)
    if n > 0:
        y = s[0] + (s[n >> 1] << 8)
        z = n + (s[n - 1] << 2)
        return (_shift_mix(((y * K2) ^ (z * K0)) & _M) * K2) & _M
    return K2


def _hash_len17to32(s: bytes) -> int:
    n = len(s)
    mul = K2 + n * 2
    a = (_fetch64(s, 0) * K1) & _M
    b = _fetch64(s, 8)
    c = (_fetch64(s, n - 8) * mul) & _M
    d = (_fetch64(s, n - 16) * K2) & _M
    return _hash_len16((_rotate((a + b) & _M, 43) + _rotate(c, 30) + d) & _M,
                       (a + _rotate((b + K2) & _M, 18) + c) & _M, mul)


def _hash_len33to64(s: bytes) -> int:
    n = len(s)
    mul = K2 + n * 2
    a = (_fetch64(s, 0) * K2) & _M
    b = _fetch64(s, 8)
    c = (_fetch64(s, n - 8) * mul) & _M
    d = (_fetch64(s, n - 16) * K2) & _M
    y = (_rotate((a + b) & _M, 43) + _rotate(c, 30) + d) & _M
    z = _hash_len16(y, (a + _rotate((b + K2) & _M, 18) + c) & _M, mul)
    e = (_fetch64(s, 16) * mul) & _M
    f = _fetch64(s, 24)
    g = ((y + _fetch64(s, n - 32)) * mul) & _M
    h = ((z + _fetch64(s, n - 24)) * mul) & _M
    return _hash_len16((_rotate((e + f) & _M, 43) + _rotate(g, 30) + h) & _M,
                       (e + _rotate((f + a) & _M, 18) + g) & _M, mul)


def _weak_hash32(s: bytes, i: int, a: int, b: int) -> tuple:
    """16 bytes of hash from ``s[i:i+32]`` and two seeds."""
    w, x, y, z = (_fetch64(s, i + k) for k in (0, 8, 16, 24))
    a = (a + w) & _M
    b = _rotate((b + a + z) & _M, 21)
    c = a
    a = (a + x + y) & _M
    b = (b + _rotate(a, 44)) & _M
    return (a + z) & _M, (b + c) & _M


def fingerprint64(data) -> int:
    """FarmHash Fingerprint64 of ``data`` (bytes, or a str encoded as UTF-8): an
    unsigned 64-bit int."""
    s = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    n = len(s)
    if n <= 16:
        return _hash_len0to16(s)
    if n <= 32:
        return _hash_len17to32(s)
    if n <= 64:
        return _hash_len33to64(s)
    # longer strings: 64-byte blocks through a state of five words
    seed = 81
    x = seed
    y = (seed * K1 + 113) & _M
    z = (_shift_mix((y * K2 + 113) & _M) * K2) & _M
    v0 = v1 = w0 = w1 = 0
    x = (x * K2 + _fetch64(s, 0)) & _M
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    i = 0
    while True:
        x = (_rotate((x + y + v0 + _fetch64(s, i + 8)) & _M, 37) * K1) & _M
        y = (_rotate((y + v1 + _fetch64(s, i + 48)) & _M, 42) * K1) & _M
        x ^= w1
        y = (y + v0 + _fetch64(s, i + 40)) & _M
        z = (_rotate((z + w0) & _M, 33) * K1) & _M
        v0, v1 = _weak_hash32(s, i, (v1 * K1) & _M, (x + w0) & _M)
        w0, w1 = _weak_hash32(s, i + 32, (z + w1) & _M, (y + _fetch64(s, i + 16)) & _M)
        z, x = x, z
        i += 64
        if i == end:
            break
    mul = K1 + ((z & 0xFF) << 1)
    i = last64
    w0 = (w0 + ((n - 1) & 63)) & _M
    v0 = (v0 + w0) & _M
    w0 = (w0 + v0) & _M
    x = (_rotate((x + y + v0 + _fetch64(s, i + 8)) & _M, 37) * mul) & _M
    y = (_rotate((y + v1 + _fetch64(s, i + 48)) & _M, 42) * mul) & _M
    x ^= (w1 * 9) & _M
    y = (y + v0 * 9 + _fetch64(s, i + 40)) & _M
    z = (_rotate((z + w0) & _M, 33) * mul) & _M
    v0, v1 = _weak_hash32(s, i, (v1 * mul) & _M, (x + w0) & _M)
    w0, w1 = _weak_hash32(s, i + 32, (z + w1) & _M, (y + _fetch64(s, i + 16)) & _M)
    z, x = x, z
    return _hash_len16(
        (_hash_len16(v0, w0, mul) + _shift_mix(y) * K0 + z) & _M,
        (_hash_len16(v1, w1, mul) + x) & _M, mul)


def salt_key(salt, owner):
    """Keras's salt as a SipHash key ``[k0, k1]``: an int is used for both halves."""
    if isinstance(salt, (tuple, list)) and len(salt) == 2 and all(
            isinstance(k, (int,)) for k in salt):
        return [int(k) for k in salt]
    if isinstance(salt, int) and not isinstance(salt, bool):
        return [salt, salt]
    raise ValueError(f"The `salt` argument for `{owner}` can only be a tuple of size 2 "
                     f"integers, or a single integer. Received: salt={salt}.")


def fingerprint_cat64(fp1: int, fp2: int) -> int:
    """TensorFlow's ``FingerprintCat64``: two fingerprints folded into one."""
    mul = 0xC6A4A7935BD1E995
    result = fp1 ^ mul
    result ^= (_shift_mix((fp2 * mul) & _M) * mul) & _M
    result = (result * mul) & _M
    result = (_shift_mix(result) * mul) & _M
    return _shift_mix(result)


def hash_bucket(value, num_buckets: int) -> int:
    """``tf.strings.to_hash_bucket_fast`` of one string (str or bytes)."""
    return fingerprint64(value) % num_buckets


def cross_bucket(features, num_buckets: int) -> int:
    """``tf.sparse.cross_hashed``'s bucket of one combination of feature values: a
    string is hashed by its fingerprint, an int taken as its own (two's complement)
    value, in the order of the features."""
    out = CROSS_HASH_KEY
    for value in features:
        if isinstance(value, (str, bytes)):
            h = fingerprint64(value)
        else:
            h = int(value) & _M
        out = fingerprint_cat64(out, h)
    return out % num_buckets if num_buckets > 0 else out % ((1 << 63) - 1)


# ---------------------------------------------------------------- SipHash-2-4
# `tf.strings.to_hash_bucket_strong(s, n, key=[k0, k1])` is SipHash-2-4 of the bytes with
# the 128-bit key (k0, k1), modulo n: what Keras's Hashing and lookups use with a salt.
def _rotl(v: int, shift: int) -> int:
    return ((v << shift) | (v >> (64 - shift))) & _M


def _sip_rounds(v0, v1, v2, v3, rounds):
    for _ in range(rounds):
        v0 = (v0 + v1) & _M
        v1 = _rotl(v1, 13) ^ v0
        v0 = _rotl(v0, 32)
        v2 = (v2 + v3) & _M
        v3 = _rotl(v3, 16) ^ v2
        v0 = (v0 + v3) & _M
        v3 = _rotl(v3, 21) ^ v0
        v2 = (v2 + v1) & _M
        v1 = _rotl(v1, 17) ^ v2
        v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def siphash24(key, data) -> int:
    """SipHash-2-4 of ``data`` (bytes, or a str as UTF-8) with ``key = (k0, k1)``."""
    s = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    k0, k1 = (int(k) & _M for k in key)
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573
    whole = len(s) - len(s) % 8
    for i in range(0, whole, 8):
        m = _fetch64(s, i)
        v3 ^= m
        v0, v1, v2, v3 = _sip_rounds(v0, v1, v2, v3, 2)
        v0 ^= m
    last = ((len(s) & 0xFF) << 56) | int.from_bytes(s[whole:], "little")
    v3 ^= last
    v0, v1, v2, v3 = _sip_rounds(v0, v1, v2, v3, 2)
    v0 ^= last
    v2 ^= 0xFF
    v0, v1, v2, v3 = _sip_rounds(v0, v1, v2, v3, 4)
    return v0 ^ v1 ^ v2 ^ v3


def strong_hash_bucket(value, num_buckets: int, key) -> int:
    """``tf.strings.to_hash_bucket_strong`` of one string with ``key = [k0, k1]``."""
    return siphash24(key, value) % num_buckets
