-- query: {"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "fiscal_year"}, {"dimension": "orders.created_at", "granularity": "two_weeks", "dateRange": ["2024-01-01", "2024-03-31"]}]}
-- join path: orders
SELECT (date_trunc('year', ("orders".created_at - INTERVAL '3 month')) + INTERVAL '3 month') AS "orders__created_at_fiscal_year",
  (to_timestamp(1672617600 + floor((EXTRACT(EPOCH FROM CAST("orders".created_at AS TIMESTAMP)) - 1672617600) / 1209600) * 1209600) AT TIME ZONE 'UTC') AS "orders__created_at_two_weeks",
  count("orders".id) AS "orders__count"
FROM orders AS "orders"
WHERE ("orders".created_at >= CAST($1 AS TIMESTAMP) AND "orders".created_at <= CAST($2 AS TIMESTAMP))
GROUP BY 1, 2
ORDER BY 1 ASC NULLS LAST
LIMIT $3;
-- $1 = "2024-01-01T00:00:00.000000"
-- $2 = "2024-03-31T23:59:59.999999"
-- $3 = 10000
