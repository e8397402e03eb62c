"""``python -m molq``: the same command line as ``molq``."""

from molq.cli import main


if __name__ == "__main__":
    main()
