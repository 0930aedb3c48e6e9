"""Change history (who, when, before/after) for the records that matter.

django-pghistory records through database triggers, so bulk and queryset
updates are recorded too, not only ``save()``; the HistoryMiddleware attaches
the user and URL of the request to each change.
"""

import pghistory


def tracked(model):
    """Record inserts, updates and deletes of ``model``."""
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
    )(model)
