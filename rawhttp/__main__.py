"""``python -m rawhttp URL``: the same as the ``rawhttp`` command."""

from .cli import main

main()
