-- query: {"measures": ["orders.customers_approx", "orders.customers"]}
-- join path: orders
SELECT approx_count_distinct("orders".user_id) AS "orders__customers_approx",
  count(DISTINCT "orders".user_id) AS "orders__customers"
FROM orders AS "orders"
LIMIT $1;
-- $1 = 10000
