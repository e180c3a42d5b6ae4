"""The desktop bundle's entry point: the `curator` command (no command opens the desktop app).

freeze_support() lets the importer's worker processes start from the frozen executable: the GUI imports
through a fork server, which re-runs this executable with multiprocessing's own arguments.
"""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from curator.cli import main_exit

    main_exit()
