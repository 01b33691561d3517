-- query: {"dimensions": ["orders.id", "orders.status"], "measures": ["orders.total_revenue"], "ungrouped": true, "limit": 3}
-- join path: orders
SELECT "orders".id AS "orders__id",
  "orders".status AS "orders__status",
  "orders".amount AS "orders__total_revenue"
FROM orders AS "orders"
ORDER BY 3 DESC NULLS FIRST
LIMIT $1;
-- $1 = 3
