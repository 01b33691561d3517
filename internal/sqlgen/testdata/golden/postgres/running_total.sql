-- query: {"measures": ["orders.running_revenue"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "month", "dateRange": ["2024-01-01", "2024-06-30"]}]}
-- join path: orders
SELECT "q_0"."orders__created_at_month" AS "orders__created_at_month",
  "q_0"."orders__running_revenue" AS "orders__running_revenue"
FROM (SELECT "series"."date_from" AS "orders__created_at_month",
  sum("base"."__value") AS "orders__running_revenue"
FROM (SELECT "d" AS "date_from", "d" + INTERVAL '1 month' - INTERVAL '1 microsecond' AS "date_to"
FROM generate_series(date_trunc('month', CAST($1 AS TIMESTAMP)), CAST($2 AS TIMESTAMP), INTERVAL '1 month') AS series_table("d")) AS "series"
LEFT JOIN (SELECT "orders".created_at AS "__time",
  "orders".amount AS "__value"
FROM orders AS "orders") AS "base" ON "base"."__time" <= "series"."date_to"
GROUP BY 1) AS "q_0"
ORDER BY 1 ASC NULLS LAST
LIMIT $3;
-- $1 = "2024-01-01T00:00:00.000000"
-- $2 = "2024-06-30T23:59:59.999000"
-- $3 = 10000
