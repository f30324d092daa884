"""``pad_sequences`` as Keras: padding and truncating before or after, values, dtypes,
sample shapes, and its errors; importable from Keras's three places."""

import numpy as np
import pytest

import tinyann as keras
from tinyann.utils import pad_sequences

SEQS = [[1, 2, 3], [4], [], [5, 6, 7, 8, 9]]


def test_default_pads_and_cuts_before():
    out = pad_sequences(SEQS, maxlen=3)
    np.testing.assert_array_equal(out, [[1, 2, 3], [0, 0, 4], [0, 0, 0], [7, 8, 9]])
    assert out.dtype == np.int32


def test_post_padding_and_truncating_value_dtype():
    out = pad_sequences(SEQS, maxlen=3, padding="post", truncating="post", value=-1,
                        dtype="float32")
    np.testing.assert_array_equal(out, [[1, 2, 3], [4, -1, -1], [-1, -1, -1], [5, 6, 7]])
    assert out.dtype == np.float32


def test_maxlen_defaults_to_the_longest_and_samples_keep_their_shape():
    assert pad_sequences(SEQS).shape == (4, 5)
    out = pad_sequences([np.ones((2, 3)), np.zeros((1, 3))], maxlen=2)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[1, 0], [0, 0, 0])


def test_strings_need_object_dtype():
    with pytest.raises(ValueError, match="You should set `dtype=object`"):
        pad_sequences([["a"]], value="x")
    out = pad_sequences([["a", "b"], ["c"]], dtype=object, value="")
    assert out.tolist() == [["a", "b"], ["", "c"]]


@pytest.mark.parametrize("kwargs,match", [
    ({"padding": "middle"}, 'Padding type "middle" not understood'),
    ({"truncating": "both"}, 'Truncating type "both" not understood'),
])
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pad_sequences([[1, 2]], maxlen=1, **kwargs)


def test_bad_sequences():
    with pytest.raises(ValueError, match="must be a list of iterables"):
        pad_sequences([[1], 2])
    with pytest.raises(ValueError, match="Shape of sample"):
        pad_sequences([np.ones((1, 2)), np.ones((1, 3))])


def test_importable_as_keras():
    assert keras.preprocessing.sequence.pad_sequences is pad_sequences
    assert keras.utils.pad_sequences is pad_sequences
