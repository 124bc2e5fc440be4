"""``python -m daanalysis ...``: the same command line as the ``daanalysis`` script."""

from daanalysis.cli import cli

if __name__ == "__main__":
    cli()
