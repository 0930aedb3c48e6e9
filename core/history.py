"""Change history (who, when, before/after) for the records that matter.

django-pghistory records through database triggers, so bulk and queryset
updates are recorded too, not only ``save()``; the HistoryMiddleware attaches
the user and URL of the request to each change.
"""

import pghistory


def tracked(model=None, *, exclude: tuple[str, ...] = ()):
    """Record inserts, updates and deletes of ``model`` (``@tracked`` or ``@tracked(exclude=...)``).

    ``exclude``: fields that are not history — derived values a write function keeps (an
    event's seat counters). They are left out of the snapshots, and an update that changes
    nothing else records no event at all.
    """

    def decorate(model_class):
        return pghistory.track(
            pghistory.InsertEvent(),
            pghistory.UpdateEvent(),
            pghistory.DeleteEvent(),
            exclude=list(exclude),
        )(model_class)

    return decorate(model) if model is not None else decorate
