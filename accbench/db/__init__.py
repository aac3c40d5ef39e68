"""Results across runs and stations: SQLAlchemy models, Alembic migrations, ingest and queries, SPC trends.

* ``connect`` and ``database``: a URL (or a SQLite file path) opened, its schema checked (``Database``);
* ``models`` and ``migrations``: the tables, and the Alembic revisions that build them (``migrate``);
* ``store``: upserts of runs and cables; ``ingest``: records into the database, idempotent;
* ``sink``: the live run's progress callback (``accbench qualify --db``);
* ``query``: cables by lot, serial, station, date, verdict;
* ``spc``, ``trend`` and ``trendpage``: control charts, Western Electric rules, Cpk, the carbon regression over
  the history, and their PNGs and HTML page (``accbench trend``).

Nothing here is imported by ``accbench`` itself: SQLAlchemy and Alembic load only when a database is used.
"""
