"""Demo data, above every app: ``manage.py seed_demo`` (and ``--scale city``).

* ``demo.small`` — the small, realistic data set the README's run command loads;
* ``demo.city`` — the city of the design's figures in bulk, for load tests;
* ``demo.identifiers`` — valid credit codes, ID numbers, phones and names;
* ``demo.writes`` — idempotent upserts; ``demo.data`` — Shanghai's districts, streets, name pools.
"""
