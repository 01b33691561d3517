package sqlapi

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/pgwire"
	"github.com/cubit-dev/cubit/internal/query"
)

// docsQueries are the two queries of our documentation, verbatim, with the REST query
// that asks the same question and hand-written SQL over the raw tables.
var docsQueries = []struct {
	name, sql, rest, check string
}{
	{
		name: "revenue_by_status",
		sql: `SELECT orders.status, orders.total_revenue, orders.count FROM orders
WHERE orders.created_at >= '2024-01-01' GROUP BY orders.status ORDER BY orders.total_revenue DESC;`,
		rest: `{"measures":["orders.total_revenue","orders.count"],"dimensions":["orders.status"],
			"filters":[{"member":"orders.created_at","operator":"afterOrOnDate","values":["2024-01-01"]}],
			"order":{"orders.total_revenue":"desc"}}`,
		check: `SELECT status, sum(amount), count(*) FROM orders WHERE created_at >= '2024-01-01'
			GROUP BY status ORDER BY 2 DESC`,
	},
	{
		name: "revenue_by_time",
		sql: `SELECT orders.created_at, orders.total_revenue FROM orders
WHERE orders.created_at >= '2024-01-01' AND orders.created_at < '2024-02-01'
GROUP BY orders.created_at ORDER BY orders.created_at;`,
		rest: `{"measures":["orders.total_revenue"],"dimensions":["orders.created_at"],
			"timeDimensions":[{"dimension":"orders.created_at","dateRange":["2024-01-01","2024-01-31"]}],
			"order":{"orders.created_at":"asc"}}`,
		check: `SELECT created_at, sum(amount) FROM orders
			WHERE created_at >= '2024-01-01' AND created_at < '2024-02-01'
			GROUP BY created_at ORDER BY created_at`,
	},
}

// TestDocsQueries runs the documentation's queries verbatim through a session and checks
// them against the REST API's answer to the same question and against the raw tables.
func TestDocsQueries(t *testing.T) {
	sh := openShop(t)
	_, s := newTestSession(t, sh.eng, "cube")
	for _, d := range docsQueries {
		t.Run(d.name, func(t *testing.T) {
			res := mustRun(t, s, d.sql)
			got := textRows(res.rows)
			if len(got) == 0 {
				t.Fatal("no rows")
			}
			q, err := query.Decode([]byte(d.rest))
			if err != nil {
				t.Fatal(err)
			}
			rest, err := sh.eng.Query(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			var restRows [][]string
			for _, r := range rest.Rows() {
				row := make([]string, len(r.Values))
				for i, v := range r.Values {
					row[i] = restText(v)
				}
				restRows = append(restRows, row)
			}
			sameRows(t, "REST API", got, restRows, true)
			sameRows(t, "raw tables", got, rawRows(t, sh.db, d.check), true)
		})
	}
}

// restText reads a REST value (numbers and times as Cube's strings).
func restText(v any) string {
	if s, ok := v.(string); ok {
		if ts, err := time.Parse("2006-01-02T15:04:05.000", s); err == nil {
			return text(ts)
		}
	}
	return text(v)
}

// e2eCases are SQL API queries with hand-written SQL over the raw tables that must
// return the same rows.
var e2eCases = []struct {
	name, sql string
	params    []any
	check     string
	ordered   bool
	setup     []string
}{
	{name: "month_count_avg",
		sql: `SELECT DATE_TRUNC('month', created_at) AS m, MEASURE(count), MEASURE(average_order_value) FROM orders
			WHERE created_at BETWEEN '2024-01-01' AND '2024-06-30' GROUP BY 1 ORDER BY 1`,
		check: `SELECT date_trunc('month', created_at), count(*), avg(amount) FROM orders
			WHERE created_at BETWEEN '2024-01-01' AND '2024-06-30' GROUP BY 1 ORDER BY 1`, ordered: true},
	{name: "count_distinct_by_channel",
		sql:   `SELECT channel, COUNT(DISTINCT customers) FROM orders GROUP BY 1`,
		check: `SELECT channel, count(DISTINCT user_id) FROM orders GROUP BY 1`},
	{name: "totals_of_bare_measures",
		sql:   `SELECT count, total_revenue, min_amount, max_amount FROM orders`,
		check: `SELECT count(*), sum(amount), min(amount), max(amount) FROM orders`},
	{name: "not_equals_excludes_null",
		sql:   `SELECT MEASURE(count) FROM orders WHERE coupon_code <> 'NO-SUCH-CODE'`,
		check: `SELECT count(*) FROM orders WHERE coupon_code <> 'NO-SUCH-CODE'`},
	{name: "not_in_and_in_with_null",
		sql:   `SELECT status, MEASURE(count) FROM orders WHERE channel NOT IN ('web') AND status IN ('completed', 'returned', NULL) GROUP BY 1`,
		check: `SELECT status, count(*) FROM orders WHERE channel NOT IN ('web') AND status IN ('completed', 'returned', NULL) GROUP BY 1`},
	{name: "not_in_with_null_is_empty",
		sql:   `SELECT status, MEASURE(count) FROM orders WHERE channel NOT IN ('web', NULL) GROUP BY 1`,
		check: `SELECT status, count(*) FROM orders WHERE channel NOT IN ('web', NULL) GROUP BY 1`},
	{name: "like_is_case_sensitive",
		sql:   `SELECT channel, MEASURE(count) FROM orders WHERE status LIKE '%omp%' OR status LIKE 'Ship%' GROUP BY 1`,
		check: `SELECT channel, count(*) FROM orders WHERE status LIKE '%omp%' OR status LIKE 'Ship%' GROUP BY 1`},
	{name: "like_upper_case_finds_nothing",
		sql:   `SELECT channel, MEASURE(count) FROM orders WHERE status LIKE '%OMP%' GROUP BY 1`,
		check: `SELECT channel, count(*) FROM orders WHERE status LIKE '%OMP%' GROUP BY 1`},
	{name: "ilike_and_not_ilike",
		sql:   `SELECT channel, MEASURE(count) FROM orders WHERE status ILIKE '%OMP%' AND channel NOT ILIKE 'W%' GROUP BY 1`,
		check: `SELECT channel, count(*) FROM orders WHERE status ILIKE '%OMP%' AND channel NOT ILIKE 'W%' GROUP BY 1`},
	{name: "like_escaped_percent",
		sql:   `SELECT MEASURE(count) FROM orders WHERE coupon_code LIKE '%\%%'`,
		check: `SELECT count(*) FROM orders WHERE coupon_code LIKE '%\%%' ESCAPE '\'`},
	{name: "booleans_and_segments",
		sql:   `SELECT status, MEASURE(count) FROM orders WHERE is_completed AND web AND NOT has_coupon GROUP BY 1`,
		check: `SELECT status, count(*) FROM orders WHERE status = 'completed' AND channel = 'web' AND coupon_code IS NULL GROUP BY 1`},
	{name: "time_between_is_inclusive_at_midnight",
		sql:   `SELECT MEASURE(count) FROM orders WHERE created_at BETWEEN '2024-01-01' AND '2024-01-31'`,
		check: `SELECT count(*) FROM orders WHERE created_at BETWEEN '2024-01-01' AND '2024-01-31'`},
	{name: "time_comparisons",
		sql:   `SELECT MEASURE(count) FROM orders WHERE created_at > '2024-03-01 12:00' AND created_at <= '2024-06-30T23:59:59' AND NOT created_at = '2024-04-01 00:00:00'`,
		check: `SELECT count(*) FROM orders WHERE created_at > '2024-03-01 12:00' AND created_at <= '2024-06-30T23:59:59' AND NOT created_at = '2024-04-01 00:00:00'`},
	{name: "numbers_and_nulls",
		sql:   `SELECT MEASURE(count), SUM(total_discount) FROM orders WHERE (amount BETWEEN 100 AND 200 OR amount NOT BETWEEN 5 AND 2000) AND discount IS NOT NULL`,
		check: `SELECT count(*), sum(discount) FROM orders WHERE (amount BETWEEN 100 AND 200 OR amount NOT BETWEEN 5 AND 2000) AND discount IS NOT NULL`},
	{name: "having",
		sql:   `SELECT status, MEASURE(count) FROM orders GROUP BY 1 HAVING SUM(total_revenue) > 700000 AND COUNT(*) < 6000`,
		check: `SELECT status, count(*) FROM orders GROUP BY 1 HAVING sum(amount) > 700000 AND count(*) < 6000`},
	{name: "order_limit_offset",
		sql:   `SELECT channel, status, MEASURE(count) AS n FROM orders GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT 4 OFFSET 2`,
		check: `SELECT channel, status, count(*) AS n FROM orders GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT 4 OFFSET 2`, ordered: true},
	{name: "ungrouped_rows",
		sql:   `SELECT id, status, amount, created_at FROM orders WHERE channel = 'web' ORDER BY id LIMIT 5`,
		check: `SELECT id, status, amount, created_at FROM orders WHERE channel = 'web' ORDER BY id LIMIT 5`, ordered: true},
	{name: "ungrouped_beyond_the_default_limit",
		sql:   `SELECT id, quantity FROM line_items`,
		check: `SELECT id, quantity FROM line_items`},
	{name: "select_distinct",
		sql:   `SELECT DISTINCT channel FROM orders`,
		check: `SELECT DISTINCT channel FROM orders`},
	{name: "view",
		sql:   `SELECT users_country, MEASURE(count), MEASURE(total_revenue) FROM orders_view GROUP BY 1`,
		check: `SELECT u.country, count(*), sum(o.amount) FROM orders o LEFT JOIN users u ON o.user_id = u.id GROUP BY 1`},
	{name: "view_of_line_items",
		sql:   `SELECT product_category, MEASURE(revenue), MEASURE(quantity_sold) FROM sales_view GROUP BY 1`,
		check: `SELECT p.category, sum(li.price * li.quantity), sum(li.quantity) FROM line_items li LEFT JOIN products p ON li.product_id = p.id GROUP BY 1`},
	{name: "cross_join",
		sql:   `SELECT users.country, MEASURE(orders.count) FROM orders CROSS JOIN users GROUP BY 1`,
		check: `SELECT u.country, count(*) FROM orders o LEFT JOIN users u ON o.user_id = u.id GROUP BY 1`},
	{name: "parameters",
		sql:    `SELECT status, MEASURE(count) FROM orders WHERE channel = $1 AND created_at >= $2 AND amount > $3 GROUP BY 1 LIMIT $4`,
		params: []any{"web", time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), 50.5, int64(100)},
		check:  `SELECT status, count(*) FROM orders WHERE channel = 'web' AND created_at >= '2024-06-01' AND amount > 50.5 GROUP BY 1`},
	{name: "session_time_zone",
		setup: []string{"SET TIME ZONE 'Europe/Berlin'"},
		sql:   `SELECT DATE_TRUNC('day', created_at) AS d, MEASURE(count) FROM orders WHERE created_at >= '2024-01-01' AND created_at < '2024-01-08' GROUP BY 1`,
		check: `SELECT date_trunc('day', timezone('Europe/Berlin', created_at AT TIME ZONE 'UTC')) AS d, count(*) FROM orders
			WHERE timezone('Europe/Berlin', created_at AT TIME ZONE 'UTC') >= '2024-01-01'
			  AND timezone('Europe/Berlin', created_at AT TIME ZONE 'UTC') < '2024-01-08' GROUP BY 1`},
	{name: "session_time_zone_raw_times",
		setup: []string{"SET TIME ZONE 'America/New_York'"},
		sql:   `SELECT created_at, MEASURE(count), MAX(last_order_at) FROM orders WHERE created_at >= '2024-01-01' AND created_at < '2024-01-02' GROUP BY 1`,
		check: `SELECT timezone('America/New_York', created_at AT TIME ZONE 'UTC') AS t, count(*), max(timezone('America/New_York', created_at AT TIME ZONE 'UTC')) FROM orders
			WHERE timezone('America/New_York', created_at AT TIME ZONE 'UTC') >= '2024-01-01'
			  AND timezone('America/New_York', created_at AT TIME ZONE 'UTC') < '2024-01-02' GROUP BY 1`},
	{name: "session_time_zone_post_processed",
		setup: []string{"SET TIME ZONE 'America/New_York'"},
		sql:   `SELECT EXTRACT(HOUR FROM created_at) AS h, MEASURE(count) FROM orders WHERE created_at >= '2024-01-01' AND created_at < '2024-01-08' GROUP BY 1`,
		check: `SELECT extract(hour FROM timezone('America/New_York', created_at AT TIME ZONE 'UTC')) AS h, count(*) FROM orders
			WHERE timezone('America/New_York', created_at AT TIME ZONE 'UTC') >= '2024-01-01'
			  AND timezone('America/New_York', created_at AT TIME ZONE 'UTC') < '2024-01-08' GROUP BY 1`},

	// DATE, ::date, EXTRACT and date_part of a time dimension read the matching bucket.
	{name: "extract_year_group_by_with_measure",
		sql:     `SELECT EXTRACT(year FROM created_at) AS y, MEASURE(count), MEASURE(total_revenue) FROM orders GROUP BY EXTRACT(year FROM created_at) ORDER BY 1`,
		check:   `SELECT extract(year FROM created_at), count(*), sum(amount) FROM orders GROUP BY 1 ORDER BY 1`,
		ordered: true},
	{name: "extract_year_of_non_additive_measure",
		sql:   `SELECT EXTRACT(year FROM created_at) AS y, MEASURE(customers), MEASURE(average_order_value) FROM orders GROUP BY 1`,
		check: `SELECT extract(year FROM created_at), count(DISTINCT user_id), avg(amount) FROM orders GROUP BY 1`},
	{name: "date_with_where_date_range",
		sql: `SELECT DATE(created_at) AS d, MEASURE(count), MEASURE(total_revenue) FROM orders
			WHERE created_at >= '2024-03-01' AND created_at < '2024-03-15' GROUP BY 1 ORDER BY 1`,
		check: `SELECT CAST(created_at AS date), count(*), sum(amount) FROM orders
			WHERE created_at >= '2024-03-01' AND created_at < '2024-03-15' GROUP BY 1 ORDER BY 1`,
		ordered: true},
	{name: "date_cast_where_on_date",
		sql: `SELECT created_at::date AS d, MEASURE(count) FROM orders
			WHERE DATE(created_at) BETWEEN '2024-03-01' AND '2024-03-14' AND channel = 'web' GROUP BY 1`,
		check: `SELECT CAST(created_at AS date), count(*) FROM orders
			WHERE CAST(created_at AS date) BETWEEN '2024-03-01' AND '2024-03-14' AND channel = 'web' GROUP BY 1`},
	{name: "date_parts_of_buckets",
		sql: `SELECT date_part('month', created_at) AS m, EXTRACT(QUARTER FROM created_at) AS q, EXTRACT(week FROM created_at) AS w,
			EXTRACT(dow FROM created_at) AS dow, EXTRACT(doy FROM created_at) AS doy, MEASURE(count)
			FROM orders WHERE created_at < '2023-04-01' GROUP BY 1, 2, 3, 4, 5`,
		check: `SELECT extract(month FROM created_at), extract(quarter FROM created_at), extract(week FROM created_at),
			extract(dow FROM created_at), extract(doy FROM created_at), count(*)
			FROM orders WHERE created_at < '2023-04-01' GROUP BY 1, 2, 3, 4, 5`},
	{name: "date_parts_of_time_buckets",
		sql:   `SELECT EXTRACT(hour FROM created_at) AS h, EXTRACT(minute FROM created_at) AS mi, EXTRACT(second FROM created_at) AS s, MEASURE(count) FROM orders WHERE created_at < '2023-02-01' GROUP BY 1, 2, 3`,
		check: `SELECT extract(hour FROM created_at), extract(minute FROM created_at), extract(second FROM created_at), count(*) FROM orders WHERE created_at < '2023-02-01' GROUP BY 1, 2, 3`},
	{name: "date_and_extract_in_time_zone",
		setup: []string{"SET TIME ZONE 'America/New_York'"},
		sql: `SELECT DATE(created_at) AS d, EXTRACT(dow FROM created_at) AS dow, MEASURE(count) FROM orders
			WHERE created_at >= '2024-01-01' AND created_at < '2024-01-15' GROUP BY 1, 2`,
		check: `SELECT CAST(timezone('America/New_York', created_at AT TIME ZONE 'UTC') AS date) AS d,
			extract(dow FROM timezone('America/New_York', created_at AT TIME ZONE 'UTC')) AS dow, count(*) FROM orders
			WHERE timezone('America/New_York', created_at AT TIME ZONE 'UTC') >= '2024-01-01'
			  AND timezone('America/New_York', created_at AT TIME ZONE 'UTC') < '2024-01-15' GROUP BY 1, 2`},
	{name: "date_exact_in_time_zone",
		setup: []string{"SET TIME ZONE 'Asia/Tokyo'"},
		sql:   `SELECT DATE(created_at) AS d, MEASURE(count) FROM orders WHERE created_at >= '2024-01-01' AND created_at < '2024-01-08' GROUP BY 1`,
		check: `SELECT CAST(timezone('Asia/Tokyo', created_at AT TIME ZONE 'UTC') AS date) AS d, count(*) FROM orders
			WHERE timezone('Asia/Tokyo', created_at AT TIME ZONE 'UTC') >= '2024-01-01'
			  AND timezone('Asia/Tokyo', created_at AT TIME ZONE 'UTC') < '2024-01-08' GROUP BY 1`},
	{name: "date_ungrouped_and_in_aggregate",
		sql:     `SELECT id, created_at::date AS d, EXTRACT(hour FROM created_at) AS h, EXTRACT(epoch FROM created_at) AS e FROM orders WHERE id <= 20 ORDER BY id`,
		check:   `SELECT id, CAST(created_at AS date), extract(hour FROM created_at), extract(epoch FROM created_at) FROM orders WHERE id <= 20 ORDER BY id`,
		ordered: true},
	{name: "max_of_date",
		sql:   `SELECT channel, MAX(DATE(created_at)) AS last_day, MIN(EXTRACT(year FROM created_at)) AS first_year, MEASURE(count) FROM orders GROUP BY 1`,
		check: `SELECT channel, max(CAST(created_at AS date)), min(extract(year FROM created_at)), count(*) FROM orders GROUP BY 1`},
	{name: "date_and_date_trunc_day",
		sql:   `SELECT DATE(created_at) AS d, DATE_TRUNC('day', created_at) AS t, MEASURE(count) FROM orders WHERE created_at < '2023-01-10' GROUP BY 1, 2 HAVING MEASURE(count) > 0`,
		check: `SELECT CAST(created_at AS date), date_trunc('day', created_at), count(*) FROM orders WHERE created_at < '2023-01-10' GROUP BY 1, 2`},
	// Post-processed.
	{name: "post_expression_over_dimension",
		sql:   `SELECT upper(status) AS s, MEASURE(count), MEASURE(total_revenue) FROM orders GROUP BY 1`,
		check: `SELECT upper(status), count(*), sum(amount) FROM orders GROUP BY 1`},
	{name: "post_bi_wrapper",
		sql:   `SELECT * FROM (SELECT status, MEASURE(count) AS c FROM orders GROUP BY 1) AS t WHERE t.c > 900 ORDER BY c DESC`,
		check: `SELECT status, count(*) AS c FROM orders GROUP BY 1 HAVING count(*) > 900 ORDER BY c DESC`, ordered: true},
	{name: "post_non_additive_single_row_groups",
		sql:   `SELECT channel, MEASURE(average_order_value) FROM orders WHERE upper(status) = 'COMPLETED' GROUP BY 1`,
		check: `SELECT channel, avg(amount) FROM orders WHERE status = 'completed' GROUP BY 1`},
	{name: "post_case",
		sql:   `SELECT CASE WHEN amount_bucket LIKE 'small%' THEN 'small' ELSE 'other' END AS size, MEASURE(count), MEASURE(total_revenue) FROM orders GROUP BY 1`,
		check: `SELECT CASE WHEN amount < 50 THEN 'small' ELSE 'other' END, count(*), sum(amount) FROM orders GROUP BY 1`},
	{name: "post_measures_arithmetic",
		sql:   `SELECT status, total_revenue / count AS per_order FROM orders GROUP BY 1`,
		check: `SELECT status, sum(amount) / count(*) FROM orders GROUP BY 1`},
	{name: "post_cte_and_window",
		sql: `WITH s AS (SELECT channel, MEASURE(total_revenue) AS r FROM orders GROUP BY 1)
			SELECT channel, r, rank() OVER (ORDER BY r DESC) AS k FROM s ORDER BY k`,
		check:   `SELECT channel, sum(amount) AS r, rank() OVER (ORDER BY sum(amount) DESC) AS k FROM orders GROUP BY 1 ORDER BY k`,
		ordered: true},
	{name: "post_rollup",
		sql:   `SELECT status, channel, MEASURE(count) FROM orders GROUP BY ROLLUP (status, channel)`,
		check: `SELECT status, channel, count(*) FROM orders GROUP BY ROLLUP (status, channel)`},
	{name: "post_distinct_and_max_of_dimensions",
		sql:   `SELECT channel, COUNT(DISTINCT status), MAX(created_at), MIN(amount) FROM orders GROUP BY 1`,
		check: `SELECT channel, count(DISTINCT status), max(created_at), min(amount) FROM orders GROUP BY 1`},
	{name: "post_extract",
		sql:   `SELECT EXTRACT(YEAR FROM created_at) AS y, MEASURE(count) FROM orders GROUP BY 1`,
		check: `SELECT extract(year FROM created_at), count(*) FROM orders GROUP BY 1`},
	{name: "post_union",
		sql:   `SELECT 'orders' AS what, MEASURE(count) AS n FROM orders UNION ALL SELECT 'users', MEASURE(count) FROM users`,
		check: `SELECT 'orders', count(*) FROM orders UNION ALL SELECT 'users', count(*) FROM users`},
	{name: "post_subquery",
		sql:   `SELECT country, MEASURE(count) FROM users WHERE city IN (SELECT users_city FROM orders_view WHERE status = 'returned' GROUP BY 1) GROUP BY 1`,
		check: `SELECT country, count(*) FROM users WHERE city IN (SELECT u.city FROM orders o JOIN users u ON o.user_id = u.id WHERE o.status = 'returned') GROUP BY 1`},
	{name: "post_ungrouped_expression",
		sql:   `SELECT id, amount * 2 AS double FROM orders WHERE lower(channel) = 'web' ORDER BY id LIMIT 3`,
		check: `SELECT id, amount * 2 FROM orders WHERE channel = 'web' ORDER BY id LIMIT 3`, ordered: true},
	{name: "post_residual_with_parameter",
		sql:    `SELECT channel, MEASURE(count) FROM orders WHERE length(status) > $1 AND status <> $2 GROUP BY 1`,
		params: []any{int64(8), "returned"},
		check:  `SELECT channel, count(*) FROM orders WHERE length(status) > 8 AND status <> 'returned' GROUP BY 1`},
}

// TestEndToEnd runs SQL through a session on the demo shop and compares the rows with
// hand-written SQL over the raw tables.
func TestEndToEnd(t *testing.T) {
	sh := openShop(t)
	for _, c := range e2eCases {
		t.Run(c.name, func(t *testing.T) {
			_, s := newTestSession(t, sh.eng, "cube")
			for _, stmt := range c.setup {
				mustRun(t, s, stmt)
			}
			res := mustRun(t, s, c.sql, c.params...)
			want := rawRows(t, sh.db, c.check)
			if len(want) == 0 {
				if c.name != "not_in_with_null_is_empty" && c.name != "like_upper_case_finds_nothing" {
					t.Fatalf("the check returns no rows: a weak test\n%s", c.check)
				}
			}
			sameRows(t, c.name, textRows(res.rows), want, c.ordered)
			if res.tag != "SELECT "+strconv.Itoa(len(res.rows)) {
				t.Errorf("tag %q for %d rows", res.tag, len(res.rows))
			}
			if len(want) > 0 && len(res.cols) != len(want[0]) {
				t.Errorf("%d columns, want %d", len(res.cols), len(want[0]))
			}
		})
	}
}

// TestEndToEndErrors checks errors that only show when the statement runs.
func TestEndToEndErrors(t *testing.T) {
	sh := openShop(t)
	_, s := newTestSession(t, sh.eng, "cube")
	for _, c := range []struct {
		sql, code, contains string
	}{
		// Two statuses start with C: the average of each cannot be averaged again.
		{`SELECT MEASURE(average_order_value) FROM orders WHERE upper(status) LIKE 'C%'`, "0A000", "is not additive"},
		{`SELECT nosuchfunction(status) FROM orders GROUP BY status`, "42883", "nosuchfunction"},
		{`SELECT 1/0`, "", ""},
		{`SELECT status, MEASURE(count) FROM orders GROUP BY 1 LIMIT 100000`, "", ""},
	} {
		_, err := run(t, s, c.sql)
		if c.code == "" {
			if err != nil {
				t.Errorf("%s: %v", c.sql, err)
			}
			continue
		}
		var pe *pgwire.Error
		if !errors.As(err, &pe) || pe.Code != c.code || !strings.Contains(pe.Message, c.contains) {
			t.Errorf("%s: error %v, want %s containing %q", c.sql, err, c.code, c.contains)
		}
	}
}
