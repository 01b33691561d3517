-- query: {"measures": ["orders.count"], "filters": [{"or": [{"member": "orders.status", "operator": "notEquals", "values": ["cancelled", null]}, {"member": "orders.coupon_code", "operator": "contains", "values": ["50%_off"]}]}, {"member": "orders.amount", "operator": "gte", "values": ["100"]}, {"member": "orders.discount", "operator": "notSet"}, {"member": "orders.created_at", "operator": "beforeDate", "values": ["2025-01-01"]}]}
-- join path: orders
SELECT count("orders".id) AS "orders__count"
FROM orders AS "orders"
WHERE ("orders".status <> $1 OR ("orders".coupon_code ILIKE $2 ESCAPE '\'))
  AND "orders".amount >= $3
  AND "orders".discount IS NULL
  AND "orders".created_at < CAST($4 AS TIMESTAMP)
LIMIT $5;
-- $1 = "cancelled"
-- $2 = "%50\\%\\_off%"
-- $3 = 100
-- $4 = "2025-01-01T00:00:00.000000"
-- $5 = 10000
