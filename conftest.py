"""nbval wiring for the notebooks (pytest reads this file for every path under the repo root).

A notebook is compared with what is committed, output by output. A new library warning on stderr
is not a change in what the lesson teaches, so stderr is left out of the comparison; text, numbers
and figures' text representations are still compared. PNG images are skipped by nbval itself.
"""


def pytest_collectstart(collector):
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr", "application/javascript", "text/html")
