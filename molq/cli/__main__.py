"""``python -m molq.cli``."""

from molq.cli import main


main()
