"""The Celery app. Workers: ``celery -A config worker``; the scheduler: ``celery -A config beat``.

Production settings unless ``DJANGO_SETTINGS_MODULE`` says otherwise (``scripts/dev.py run``
sets the development ones).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
