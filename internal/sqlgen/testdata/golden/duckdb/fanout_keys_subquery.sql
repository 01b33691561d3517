-- query: {"measures": ["orders.total_revenue", "line_items.count", "orders.count"], "dimensions": ["users.city"]}
-- join path: orders -> line_items (one_to_many), orders -> users (many_to_one)
SELECT "q_0"."users__city" AS "users__city",
  "q_1"."orders__total_revenue" AS "orders__total_revenue",
  "q_0"."line_items__count" AS "line_items__count",
  "q_0"."orders__count" AS "orders__count"
FROM (SELECT "users".city AS "users__city",
  count("line_items".id) AS "line_items__count",
  count(DISTINCT "orders".id) AS "orders__count"
FROM orders AS "orders"
LEFT JOIN line_items AS "line_items" ON "orders".id = "line_items".order_id
LEFT JOIN users AS "users" ON "orders".user_id = "users".id
GROUP BY 1) AS "q_0"
INNER JOIN (SELECT "keys"."users__city" AS "users__city",
  sum("orders".amount) AS "orders__total_revenue"
FROM (SELECT DISTINCT "users".city AS "users__city",
  "orders".id AS "__pk_0"
FROM orders AS "orders"
LEFT JOIN line_items AS "line_items" ON "orders".id = "line_items".order_id
LEFT JOIN users AS "users" ON "orders".user_id = "users".id) AS "keys"
LEFT JOIN orders AS "orders" ON "keys"."__pk_0" = "orders".id
GROUP BY 1) AS "q_1" ON "q_0"."users__city" IS NOT DISTINCT FROM "q_1"."users__city"
ORDER BY 2 DESC NULLS FIRST
LIMIT $1;
-- $1 = 10000
