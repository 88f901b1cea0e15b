"""Training a ``MultiLayerPerceptron``, and looking at what training did.

* ``settings``: ``TrainingSettings`` (the knobs of one run) and ``validate_settings``;
* ``loop``: ``train`` (SGD on the lab's objective), ``History``, ``DivergedError``;
* ``manual_engine``: the hand-derived backprop on preallocated float64 arrays (``engine="manual"``);
* ``lr_finder``: a learning-rate range test, ``find_learning_rate``;
* ``statistics``: per-layer numbers of a network (``layer_statistics``) and of a run over epochs;
* ``original_lab``: the original lab's loops, re-expressed, for tests and benchmarks.

``lab3.train`` is ``lab3.training.loop.train``. Nothing here imports matplotlib or Jupyter: the
pictures of these numbers are in ``lab3.figures``.
"""
