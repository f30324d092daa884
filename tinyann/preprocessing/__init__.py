"""``keras.preprocessing``: the sequence helpers chapter 9 imports from here, and the
image ones tutorials import as ``keras.preprocessing.image``."""

from tinyann.preprocessing import image, sequence

__all__ = ["image", "sequence"]
