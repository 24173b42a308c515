"""``python -m mimosa_host``: the ``mimosa-host`` command (how ``mimosa-host serve`` starts its children)."""

from .cli import main

if __name__ == "__main__":
    main()
