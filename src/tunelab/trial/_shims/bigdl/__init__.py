"""tunelab's stand-in for BigDL's ``bigdl`` package: only ``bigdl.orca.automl`` (Orca's AutoEstimator API).

Importable when this folder is on the path (``tunelab python SCRIPT``, or PYTHONPATH); an
installed bigdl package comes first on the path and is then the one imported.
"""
