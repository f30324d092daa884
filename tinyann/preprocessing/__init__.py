"""``keras.preprocessing``: the sequence helpers chapter 9 imports from here."""

from tinyann.preprocessing import sequence

__all__ = ["sequence"]
