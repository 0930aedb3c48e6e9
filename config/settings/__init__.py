"""Settings per purpose: ``base`` (shared), ``development``, ``test`` and ``production``.

There is no default: ``DJANGO_SETTINGS_MODULE`` names one of the purpose modules
(``manage.py`` defaults to development, the WSGI and Celery entry points to production).
"""
