-- query: {"measures": ["orders.count"], "dimensions": ["orders.channel"], "order": [["orders.channel", "asc"]], "limit": 2, "offset": 1}
-- join path: orders
SELECT "orders".channel AS "orders__channel",
  count("orders".id) AS "orders__count"
FROM orders AS "orders"
GROUP BY 1
ORDER BY 1 ASC NULLS LAST
LIMIT $1
OFFSET $2;
-- $1 = 2
-- $2 = 1
