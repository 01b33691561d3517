-- query: {"measures": ["orders.revenue_7d", "orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "day", "dateRange": ["2024-01-01", "2024-01-10"]}]}
-- join path: orders
SELECT "q_0"."orders__created_at_day" AS "orders__created_at_day",
  "q_1"."orders__revenue_7d" AS "orders__revenue_7d",
  "q_0"."orders__count" AS "orders__count"
FROM (SELECT date_trunc('day', "orders".created_at) AS "orders__created_at_day",
  count("orders".id) AS "orders__count"
FROM orders AS "orders"
WHERE ("orders".created_at >= CAST($1 AS TIMESTAMP) AND "orders".created_at <= CAST($2 AS TIMESTAMP))
GROUP BY 1) AS "q_0"
INNER JOIN (SELECT "series"."date_from" AS "orders__created_at_day",
  sum("base"."__value") AS "orders__revenue_7d"
FROM (SELECT "d" AS "date_from", "d" + INTERVAL '1 day' - INTERVAL '1 microsecond' AS "date_to"
FROM generate_series(date_trunc('day', CAST($3 AS TIMESTAMP)), CAST($4 AS TIMESTAMP), INTERVAL '1 day') AS series_table("d")) AS "series"
LEFT JOIN (SELECT "orders".created_at AS "__time",
  "orders".amount AS "__value"
FROM orders AS "orders") AS "base" ON "base"."__time" > ("series"."date_to" - INTERVAL '604800 second') AND "base"."__time" <= "series"."date_to"
GROUP BY 1) AS "q_1" ON "q_0"."orders__created_at_day" IS NOT DISTINCT FROM "q_1"."orders__created_at_day"
ORDER BY 1 ASC NULLS LAST
LIMIT $5;
-- $1 = "2024-01-01T00:00:00.000000"
-- $2 = "2024-01-10T23:59:59.999999"
-- $3 = "2024-01-01T00:00:00.000000"
-- $4 = "2024-01-10T23:59:59.999000"
-- $5 = 10000
