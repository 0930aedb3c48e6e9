"""``makemessages`` that also extracts ``_t(...)`` and writes a catalog that merges well.

The admin modules import ``gettext as _t`` (messages built at request time, next to
``gettext_lazy as _`` for labels); xgettext knows only the standard names, so without
this those messages never reach the catalog and stay Chinese in English.

The catalog is sorted by message and carries no source locations: a change of code moves
no entry, and two branches that add messages touch different places of the file.
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_t", "--sort-output"]
    msguniq_options = [*makemessages.Command.msguniq_options, "--sort-output"]
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--sort-output"]
    msgattrib_options = [*makemessages.Command.msgattrib_options, "--sort-output"]

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(no_location=True)
