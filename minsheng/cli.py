"""`minsheng`: the one command for people and operators. Django's management commands are all
available through it (`minsheng migrate`, `minsheng createsuperuser` …) beside our own
(`serve`, `demo`, `worker`, `scheduler`, `check`)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
    from django.core.management import execute_from_command_line

    args = ["minsheng", *(argv if argv is not None else sys.argv[1:])]
    if len(args) == 1:
        args.append("help")
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
