-- query: {"measures": ["orders.count"], "dimensions": ["users.city"], "order": {"orders.count": "desc"}, "limit": 5}
-- join path: orders -> users (many_to_one)
SELECT "users".city AS "users__city",
  count("orders".id) AS "orders__count"
FROM orders AS "orders"
LEFT JOIN users AS "users" ON "orders".user_id = "users".id
GROUP BY 1
ORDER BY 2 DESC NULLS FIRST
LIMIT $1;
-- $1 = 5
