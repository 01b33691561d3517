-- query: {"measures": ["my_orders.count"]}
-- join path: my_orders
SELECT count("my_orders".id) AS "my_orders__count"
FROM (SELECT * FROM orders
WHERE 1 = 1
  AND 1 = 1
) AS "my_orders"
LIMIT $1;
-- $1 = 10000
