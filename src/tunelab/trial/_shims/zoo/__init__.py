"""tunelab's stand-in for Analytics Zoo's ``zoo`` package: only ``zoo.orca.automl`` (Orca's AutoEstimator API).

Importable when this folder is on the path (``tunelab python SCRIPT``, or PYTHONPATH); an
installed zoo package comes first on the path and is then the one imported.
"""
