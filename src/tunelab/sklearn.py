"""scikit-learn integration: ``from tunelab.sklearn import TuneSearchCV``.

Importing this module imports scikit-learn; ``import tunelab`` alone does not.
"""

from tunelab.integrations.sklearn import TuneSearchCV

__all__ = ["TuneSearchCV"]
