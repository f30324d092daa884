"""``tinyann run``, the tinyann Jupyter kernel and ``%load_ext tinyann``.

Nothing else in tinyann imports this package: it sits above the library (only the
command line and the package's lazy ``load_ipython_extension`` reach it).

- :mod:`tinyann.runner.shims`: what is served as ``tensorflow`` and ``keras``.
- :mod:`tinyann.runner.serving`: the import hook that serves them.
- :mod:`tinyann.runner.plots`: ``plt.show()`` saving PNG files in script runs.
- :mod:`tinyann.runner.script`: ``tinyann run script.py``.
- :mod:`tinyann.runner.notebook`: ``tinyann run notebook.ipynb`` (nbclient + ipykernel),
  with :mod:`tinyann.runner.streams` for its terminal echo and stored text.
- :mod:`tinyann.runner.kernelspec`: the kernel, ``tinyann jupyter install``.
- :mod:`tinyann.runner.extension`: ``%load_ext tinyann``.
"""
