"""Matplotlib pictures of the lessons; each function draws, none trains or changes a model.

* ``curves``: loss per step or epoch, and final loss against learning rate x steps;
* ``plane``: where a network sends the plane, beside the true map; the matrices printed;
* ``statistics``: what ``lab3.training.statistics`` recorded, layer by layer;
* ``circuits``: computational graphs (a graph is data, ``Node`` and ``Edge``; ``draw_graph``
  renders it).

The explorer's panels are drawn by ``lab3.explore`` (they update in place, slider by slider).
"""
