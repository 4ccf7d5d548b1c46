"""``zoo.orca``: ``init_orca_context`` and ``stop_orca_context`` (Ray only when a cluster is asked for)."""

from tunelab.integrations._orca import OrcaContext, init_orca_context, stop_orca_context

__all__ = ["OrcaContext", "init_orca_context", "stop_orca_context"]
