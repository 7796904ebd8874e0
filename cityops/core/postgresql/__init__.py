"""PostgreSQL backend that keeps the plans of the hot paths' key lookups and inserts (see ``base``)."""

# psycopg prepares a statement after ``prepare_threshold`` runs on a connection, and at once when
# asked: with this threshold only the statements that ask are prepared (``None`` refuses those too).
ON_REQUEST_ONLY = 2**62
