-- security context: {"user_id": 7, "tenant": {"channel": "web"}}
-- query: {"measures": ["my_orders.count"], "dimensions": ["my_orders.status"]}
-- join path: my_orders
SELECT "my_orders".status AS "my_orders__status",
  count("my_orders".id) AS "my_orders__count"
FROM (SELECT * FROM orders
WHERE user_id = $1
  AND channel = $2
) AS "my_orders"
GROUP BY 1
ORDER BY 2 DESC NULLS FIRST
LIMIT $3;
-- $1 = 7
-- $2 = "web"
-- $3 = 10000
