"""``python -m daanalysis ...``: the same command line as the ``daanalysis`` script."""

from daanalysis.report import cli

if __name__ == "__main__":
    cli()
