-- query: {"measures": ["orders.total_revenue"], "segments": ["orders.completed", "users.vip"]}
-- join path: orders -> users (many_to_one)
SELECT sum("orders".amount) AS "orders__total_revenue"
FROM orders AS "orders"
LEFT JOIN users AS "users" ON "orders".user_id = "users".id
WHERE ("orders".status = 'completed')
  AND ("users".is_vip)
LIMIT $1;
-- $1 = 10000
