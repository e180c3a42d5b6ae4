"""Run Curator with ``python -m curator``."""

from curator.cli import main_exit

main_exit()
