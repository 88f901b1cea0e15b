"""Matplotlib pictures of the lessons; each function draws, none trains or changes a model.

* ``curves``: loss per step or epoch, and final loss against learning rate x steps;
* ``plane``: where a network sends the plane, beside the true map; the matrices printed;
* ``statistics``: what ``lab3.training.statistics`` recorded, layer by layer;
* ``circuit_graphs``: computational graphs as data (``Node`` and ``Edge`` lists, with every
  value and gradient, built by ``scalar_graph`` and ``mlp_graph``); ``circuits``: ``draw_graph``
  renders one (and re-exports the builders, as the lessons call them).

The explorer's panels are drawn by ``lab3.explore`` (they update in place, slider by slider).
"""
