"""Training, evaluation and prediction: what ``Model.fit`` / ``evaluate`` /
``predict`` run (as in Keras 3's ``keras/src/trainers``).

- ``trainer.py``: ``fit``, ``evaluate``, ``train_on_batch``, ``test_on_batch``;
- ``epoch_loop.py``: one epoch over a data adapter; ``train_step.py``: one step;
- ``evaluating.py``: the test loop; ``predicting.py``: ``predict``;
- ``compile_state.py``: what ``compile()`` decided (``CompileState``);
- ``outputs.py``: Keras's rules for several outputs; ``checks.py``: checks made once
  per call; ``epoch_outputs.py``, ``logs.py``: the loss, metrics and logs;
- ``data_adapters/``: arrays, iterables, the prefetching thread.

The trainers see the model through its graph, weights and ``CompileState`` only:
they never import ``tinyann.models``.
"""
