-- query: {"measures": ["orders_view.count"], "dimensions": ["orders_view.users_city"]}
-- join path: orders -> users (many_to_one)
SELECT "users".city AS "orders_view__users_city",
  count("orders".id) AS "orders_view__count"
FROM orders AS "orders"
LEFT JOIN users AS "users" ON "orders".user_id = "users".id
GROUP BY 1
ORDER BY 2 DESC NULLS FIRST
LIMIT $1;
-- $1 = 10000
