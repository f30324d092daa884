"""``keras.preprocessing.image``: Keras 3 keeps the one-picture helpers here too."""

from tinyann.utils.image_utils import array_to_img, img_to_array, load_img, save_img

__all__ = ["load_img", "img_to_array", "array_to_img", "save_img"]
