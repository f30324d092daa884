"""tinyann: Keras-compatible neural networks on NumPy.

    import tinyann as keras
"""

__version__ = "0.1.0"
