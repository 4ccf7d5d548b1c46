"""``tfx.components.trainer``."""
