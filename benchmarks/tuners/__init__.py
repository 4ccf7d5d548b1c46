"""Side-by-side benchmark of tunelab's tuners and their peers; run ``python -m benchmarks.tuners.run``."""
