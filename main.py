"""Start Curator: the desktop app, or a command when given one (``python main.py --help``)."""

if __name__ == "__main__":  # guarded: the importer's worker processes re-import this module
    from curator.cli import main_exit

    main_exit()
