"""Entry point of the ``extent`` command: importing each command module registers its command."""

from __future__ import annotations

from extent.cli import calibrate, estimate, rates, report, survey, validate  # noqa: F401  (register commands)
from extent.cli.app import app


def main() -> None:
    app()


if __name__ == "__main__":
    main()
