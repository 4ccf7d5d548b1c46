"""The progress display of ``tunelab run`` (it lives in :mod:`tunelab.engine._display`, which the
Python API uses too)."""

from tunelab.engine._display import LiveProgress, PlainProgress, make_progress, summary_line

__all__ = ["LiveProgress", "PlainProgress", "make_progress", "summary_line"]
