"""``keras.preprocessing.sequence.pad_sequences`` (the same as ``keras.utils``'s)."""

from tinyann.utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
