"""Text shown on every DAG's page in the Airflow UI (doc_md): how partitions, runs and backfills work."""

RUNS_DOC = """

### Partitions, runs and backfills

- A run covers its data interval `[start, end)`; its **partition** is the date of the interval's start,
  and its **logical date** is that same instant, whoever starts it (the scheduler, a backfill, `elt run`).
  Files of a partition land in `$ELT_LANDING_DIR/<source>/<YYYY-MM-DD>/`.
- **To run past partitions, use Backfill** (the button above): start and end are partition dates. Reprocess
  behavior decides what happens to partitions that already ran: *Missing runs* skips them, *Missing and
  errored runs* runs the failed ones again, *All runs* runs every one again (a re-run replaces the partition's
  rows, never duplicates them). "Max active runs" runs several partitions at once; that is safe.
  From a shell: `elt backfill DAG_ID --start D1 --end D2` (the same backfill; `elt run DAG_ID --date D` for one).
- **Don't use Trigger**: Airflow gives a manually triggered run the interval that *ends* at its logical date,
  so it would process the day before the date it is listed under; such a run fails at once and says so.
- History starts at `ELT_HISTORY_START` (a setting; default 2015-01-01): Airflow runs nothing earlier.
- A bad file, or a suite's error share over its threshold, fails the run at once (no retry); a lost
  connection, a lock wait over `ELT_LOCK_TIMEOUT` or a deadlock is retried twice. Every failing row is in
  `audit.dq_exceptions`, every file in `audit.load_log`.
"""
