-- client: psycopg2 2.9.5 (Debian python3-psycopg2): connect + one query
-- Captured from PostgreSQL 15 with log_statement=all; one statement per entry, in the order sent.

-- statement
BEGIN;

-- statement
SELECT status, count(*) FROM orders GROUP BY 1;
