-- query: {"measures": ["orders.revenue_per_customer", "line_items.quantity_sold"], "dimensions": ["orders.status"]}
-- join path: orders -> line_items (one_to_many)
SELECT "q_0"."orders__status" AS "orders__status",
  ("q_1"."orders__total_revenue" / NULLIF("q_0"."orders__customers", 0)) AS "orders__revenue_per_customer",
  "q_0"."line_items__quantity_sold" AS "line_items__quantity_sold"
FROM (SELECT "orders".status AS "orders__status",
  count(DISTINCT "orders".user_id) AS "orders__customers",
  sum("line_items".quantity) AS "line_items__quantity_sold"
FROM orders AS "orders"
LEFT JOIN line_items AS "line_items" ON "orders".id = "line_items".order_id
GROUP BY 1) AS "q_0"
INNER JOIN (SELECT "keys"."orders__status" AS "orders__status",
  sum("orders".amount) AS "orders__total_revenue"
FROM (SELECT DISTINCT "orders".status AS "orders__status",
  "orders".id AS "__pk_0"
FROM orders AS "orders"
LEFT JOIN line_items AS "line_items" ON "orders".id = "line_items".order_id) AS "keys"
LEFT JOIN orders AS "orders" ON "keys"."__pk_0" = "orders".id
GROUP BY 1) AS "q_1" ON "q_0"."orders__status" IS NOT DISTINCT FROM "q_1"."orders__status"
ORDER BY 2 DESC NULLS FIRST
LIMIT $1;
-- $1 = 10000
