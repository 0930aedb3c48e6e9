"""``makemessages`` that also extracts ``_t(...)``.

The admin modules import ``gettext as _t`` (messages built at request time, next to
``gettext_lazy as _`` for labels); xgettext knows only the standard names, so without
this those messages never reach the catalog and stay Chinese in English.
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_t"]
