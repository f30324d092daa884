"""``out=`` for the reference ops: compute the plain way, then copy if asked."""


def into(value, out):
    """``value`` written into ``out`` (returned), or ``value`` itself if ``out`` is None."""
    if out is None:
        return value
    out[...] = value
    return out
