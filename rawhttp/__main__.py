"""``python -m rawhttp URL``: the same as the ``rawhttp`` command."""

from ._cli import main

main()
