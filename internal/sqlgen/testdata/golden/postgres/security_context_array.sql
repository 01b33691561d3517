-- security context: {"user_id": [7, 8], "tenant": {"channel": []}}
-- query: {"measures": ["my_orders.count"]}
-- join path: my_orders
SELECT count("my_orders".id) AS "my_orders__count"
FROM (SELECT * FROM orders
WHERE user_id IN ($1, $2)
  AND 1 = 0
) AS "my_orders"
LIMIT $3;
-- $1 = 7
-- $2 = 8
-- $3 = 10000
