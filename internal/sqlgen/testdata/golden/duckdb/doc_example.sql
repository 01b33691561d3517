-- query: {"measures": ["orders.total_revenue"], "dimensions": ["orders.status"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "day", "dateRange": ["2024-01-01", "2024-01-31"]}]}
-- join path: orders
SELECT "orders".status AS "orders__status",
  date_trunc('day', "orders".created_at) AS "orders__created_at_day",
  sum("orders".amount) AS "orders__total_revenue"
FROM orders AS "orders"
WHERE ("orders".created_at >= CAST($1 AS TIMESTAMP) AND "orders".created_at <= CAST($2 AS TIMESTAMP))
GROUP BY 1, 2
ORDER BY 2 ASC NULLS LAST
LIMIT $3;
-- $1 = "2024-01-01T00:00:00.000000"
-- $2 = "2024-01-31T23:59:59.999999"
-- $3 = 10000
