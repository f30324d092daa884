"""What ``tinyann run`` serves in place of TensorFlow and Keras.

- :mod:`tinyann.compat.tensorflow`: the TensorFlow surface Keras scripts use
  (``tf.keras``, ``tf.random.set_seed``, ``tf.config``, ``tf.data.Dataset``...).
- :mod:`tinyann.compat.data`: ``tf.data.Dataset`` for in-memory data.
- :mod:`tinyann.compat.modules`: the module objects served under Keras's names.
"""
