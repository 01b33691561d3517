-- security context: {"flagged_users": [3, 5], "status": "completed"}
-- query: {"measures": ["my_orders.revenue"], "dimensions": ["my_orders.flagged"], "segments": ["my_orders.own_status"]}
-- join path: my_orders
SELECT ("my_orders".user_id IN ($1, $2)) AS "my_orders__flagged",
  sum("my_orders".amount) AS "my_orders__revenue"
FROM (SELECT * FROM orders
WHERE 1 = 1
  AND 1 = 1
) AS "my_orders"
WHERE (my_orders.status = $3)
GROUP BY 1
ORDER BY 2 DESC NULLS FIRST
LIMIT $4;
-- $1 = 3
-- $2 = 5
-- $3 = "completed"
-- $4 = 10000
