-- query: {"measures": ["orders.count"], "dimensions": ["users.city"], "filters": [{"member": "orders.count", "operator": "gt", "values": ["10"]}]}
-- join path: orders -> users (many_to_one)
SELECT "users".city AS "users__city",
  count("orders".id) AS "orders__count"
FROM orders AS "orders"
LEFT JOIN users AS "users" ON "orders".user_id = "users".id
GROUP BY 1
HAVING count("orders".id) > $1
ORDER BY 2 DESC NULLS FIRST
LIMIT $2;
-- $1 = 10
-- $2 = 10000
