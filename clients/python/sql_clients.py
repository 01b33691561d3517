#!/usr/bin/python3
"""Python PostgreSQL clients against Cubit's SQL API; run by internal/server/sqlclients_test.go.

    CUBIT_SQL_HOST=127.0.0.1 CUBIT_SQL_PORT=15432 CUBIT_SQL_USER=cube CUBIT_SQL_PASSWORD=... \
        /usr/bin/python3 clients/python/sql_clients.py psycopg2|odbc|catalog

Prints one JSON object; the Go test checks the numbers against the raw demo tables.
Modes:
  psycopg2  psycopg2 (a query, a %s parameter) and SQLAlchemy text() queries
  odbc      psqlODBC through pyodbc, DSN-less connection string
  catalog   SQLAlchemy's inspector and ODBC SQLTables/SQLColumns (needs catalog emulation)
"""
import json
import os
import sys
import urllib.parse

HOST = os.environ["CUBIT_SQL_HOST"]
PORT = os.environ["CUBIT_SQL_PORT"]
USER = os.environ["CUBIT_SQL_USER"]
PASSWORD = os.environ["CUBIT_SQL_PASSWORD"]
DB = "cubit"

BY_STATUS = "SELECT status, MEASURE(count) FROM orders GROUP BY 1"


def rows(rs):
    return [list(r) for r in rs]


def sqlalchemy_engine():
    import sqlalchemy

    url = "postgresql+psycopg2://%s:%s@%s:%s/%s" % (
        urllib.parse.quote(USER, safe=""),
        urllib.parse.quote(PASSWORD, safe=""),
        HOST,
        PORT,
        DB,
    )
    return sqlalchemy.create_engine(url)


def mode_psycopg2():
    import psycopg2
    from sqlalchemy import text

    out = {}
    conn = psycopg2.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, dbname=DB, connect_timeout=10)
    try:
        out["server_version"] = conn.server_version
        with conn.cursor() as cur:
            cur.execute(BY_STATUS)
            out["psycopg2_by_status"] = rows(cur.fetchall())
            # psycopg2 interpolates %s client-side: the server sees a literal.
            cur.execute("SELECT status, MEASURE(count) FROM orders WHERE status = %s GROUP BY 1", ("completed",))
            out["psycopg2_param"] = rows(cur.fetchall())
        conn.rollback()  # psycopg2 opened a transaction with BEGIN
    finally:
        conn.close()

    engine = sqlalchemy_engine()
    with engine.connect() as c:
        out["sqlalchemy_by_status"] = rows(c.execute(text(BY_STATUS)))
        out["sqlalchemy_param"] = rows(
            c.execute(
                text("SELECT orders.status, orders.count FROM orders WHERE orders.status = :s GROUP BY 1"),
                {"s": "completed"},
            )
        )
        out["sqlalchemy_revenue_completed"] = c.execute(
            text("SELECT SUM(total_revenue) FROM orders WHERE status = :s"), {"s": "completed"}
        ).scalar()
    engine.dispose()
    return out


def odbc_connect():
    import pyodbc

    return pyodbc.connect(
        "Driver={PostgreSQL Unicode};Server=%s;Port=%s;Database=%s;Uid=%s;Pwd=%s;" % (HOST, PORT, DB, USER, PASSWORD),
        timeout=10,
    )


def mode_odbc():
    out = {}
    conn = odbc_connect()
    try:
        cur = conn.cursor()
        cur.execute(BY_STATUS)
        out["odbc_by_status"] = rows(cur.fetchall())
        cur.execute("SELECT status, MEASURE(count) FROM orders WHERE status = ? GROUP BY 1", "shipped")
        out["odbc_param"] = rows(cur.fetchall())
    finally:
        conn.close()
    return out


def mode_catalog():
    import sqlalchemy

    out = {}
    engine = sqlalchemy_engine()
    insp = sqlalchemy.inspect(engine)
    out["sqlalchemy_tables"] = sorted(insp.get_table_names(schema="public") + insp.get_view_names(schema="public"))
    out["sqlalchemy_orders_columns"] = [c["name"] for c in insp.get_columns("orders", schema="public")]
    engine.dispose()
    conn = odbc_connect()
    try:
        cur = conn.cursor()
        out["odbc_tables"] = sorted(r.table_name for r in cur.tables(schema="public").fetchall())
        out["odbc_orders_columns"] = [r.column_name for r in cur.columns(table="orders", schema="public").fetchall()]
    finally:
        conn.close()
    return out


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "psycopg2"
    fn = {"psycopg2": mode_psycopg2, "odbc": mode_odbc, "catalog": mode_catalog}[mode]
    json.dump(fn(), sys.stdout, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
