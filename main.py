"""Start Curator (the desktop app, or a command when given one)."""
from curator.cli import main_exit

main_exit()
