#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands that only read the code — they serve nothing and use no secret — also run in a
# checkout with no environment at all (`manage.py makemigrations --check` before a commit):
# for them alone DEBUG defaults to on. Every other command, and `check --deploy`, keeps the
# production default of config/settings.py: DEBUG off, and no start without SECRET_KEY.
CODE_ONLY_COMMANDS = frozenset({"makemigrations", "makemessages", "compilemessages", "check"})


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in CODE_ONLY_COMMANDS and "--deploy" not in sys.argv:
        os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
