-- query: {"measures": ["orders.count"]}
-- join path: orders
SELECT count("orders".id) AS "orders__count"
FROM orders AS "orders"
LIMIT $1;
-- $1 = 10000
