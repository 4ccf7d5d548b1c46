"""``python -m tunelab.cli``, the same as the ``tunelab`` command."""

from tunelab.cli import main

main()
