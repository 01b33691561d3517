-- query: {"measures": ["users.count"], "dimensions": ["users.age_group", "users.location"], "limit": 5}
-- join path: users
SELECT CASE WHEN "users".age < 25 THEN $1 WHEN "users".age < 35 THEN $2 WHEN "users".age < 50 THEN $3 ELSE $4 END AS "users__age_group",
  (CAST("users".lat AS TEXT) || ',' || CAST("users".lng AS TEXT)) AS "users__location",
  count("users".id) AS "users__count"
FROM users AS "users"
GROUP BY 1, 2
ORDER BY 3 DESC NULLS FIRST
LIMIT $5;
-- $1 = "18-24"
-- $2 = "25-34"
-- $3 = "35-49"
-- $4 = "50+"
-- $5 = 5
