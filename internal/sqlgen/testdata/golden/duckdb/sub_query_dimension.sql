-- query: {"measures": ["users.count"], "dimensions": ["users.order_count"], "limit": 5}
-- join path: users
SELECT ("users_order_count_subquery"."orders__count") AS "users__order_count",
  count("users".id) AS "users__count"
FROM users AS "users"
LEFT JOIN (SELECT "users".id AS "users__id",
  count("orders".id) AS "orders__count"
FROM orders AS "orders"
LEFT JOIN users AS "users" ON "orders".user_id = "users".id
GROUP BY 1) AS "users_order_count_subquery" ON "users".id = "users_order_count_subquery"."users__id"
GROUP BY 1
ORDER BY 2 DESC NULLS FIRST
LIMIT $1;
-- $1 = 5
