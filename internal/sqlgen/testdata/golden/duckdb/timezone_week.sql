-- query: {"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "week", "dateRange": "last 2 months"}], "timezone": "America/New_York"}
-- join path: orders
SELECT date_trunc('week', timezone(CAST($1 AS VARCHAR), CAST("orders".created_at AS TIMESTAMPTZ))) AS "orders__created_at_week",
  count("orders".id) AS "orders__count"
FROM orders AS "orders"
WHERE ("orders".created_at >= CAST($2 AS TIMESTAMP) AND "orders".created_at <= CAST($3 AS TIMESTAMP))
GROUP BY 1
ORDER BY 1 ASC NULLS LAST
LIMIT $4;
-- $1 = "America/New_York"
-- $2 = "2025-04-01T04:00:00.000000"
-- $3 = "2025-06-01T03:59:59.999999"
-- $4 = 10000
