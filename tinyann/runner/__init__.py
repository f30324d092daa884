"""``tinyann run``, the tinyann Jupyter kernel and ``%load_ext tinyann``.

Nothing else in tinyann imports this package: it sits above the library.

- :mod:`tinyann.runner.shims`: what is served as ``tensorflow`` and ``keras``.
- :mod:`tinyann.runner.serving`: the import hook that serves them.
- :mod:`tinyann.runner.plots`: ``plt.show()`` saving PNG files in script runs.
- :mod:`tinyann.runner.script`: ``tinyann run script.py``.
"""
