"""The tinyann app: reports, photo preprocessing, evaluation and the web page.

Needs the ``app`` extra (scikit-learn, matplotlib, Pillow; FastAPI and uvicorn for
``tinyann serve``). Modules: ``labels`` (class names in English and Korean),
``preprocess`` (photos -> 28x28), ``runs`` (run folders, models, splits),
``plots`` and ``report`` (the HTML report), ``server`` and ``static/`` (the web page),
``commands`` (the subcommands of ``tinyann``).
"""


class UsageError(Exception):
    """A problem with what the user asked for: printed as one line, exit status 2
    (here, not in ``tinyann.cli``, so the commands need not import the CLI back)."""
