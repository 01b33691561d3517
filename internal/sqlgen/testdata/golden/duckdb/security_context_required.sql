-- security context: {"user_id": "7"}
-- query: {"measures": ["strict_orders.count"], "segments": ["strict_orders.tenant"]}
-- join path: strict_orders
SELECT count("strict_orders".id) AS "strict_orders__count"
FROM orders AS "strict_orders"
WHERE (strict_orders.user_id = $1)
LIMIT $2;
-- $1 = "7"
-- $2 = 10000
