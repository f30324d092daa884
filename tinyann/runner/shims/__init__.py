"""What ``tinyann run`` serves in place of TensorFlow and Keras.

- :mod:`tinyann.runner.shims.tensorflow`: the TensorFlow surface Keras scripts use
  (``tf.keras``, ``tf.random.set_seed``, ``tf.config``, ``tf.data.Dataset``...).
- :mod:`tinyann.runner.shims.data`: ``tf.data.Dataset`` for in-memory data.
- :mod:`tinyann.runner.shims.modules`: the module objects served under Keras's names.
"""
