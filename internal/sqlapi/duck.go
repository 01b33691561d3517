package sqlapi

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/cubit-dev/cubit/internal/pgwire"
	whduckdb "github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

// postEngine is the embedded DuckDB database that evaluates what Cube queries cannot:
// expressions over their results, outer queries of BI tools, catalog queries. It holds no
// data of its own: each statement loads its inputs into temporary tables of one connection
// and drops them when done. File and network access are switched off, so SQL sent by a
// client can read nothing but its inputs.
type postEngine struct {
	once sync.Once
	db   *whduckdb.DB
	err  error
}

func (p *postEngine) open() (*whduckdb.DB, error) {
	p.once.Do(func() {
		db, err := whduckdb.Open("", whduckdb.Options{MemoryLimit: "512MB", Threads: 2})
		if err != nil {
			p.err = err
			return
		}
		// Once off, external access cannot be switched on again while the database runs; and
		// the statements sent here are SELECTs, which cannot change settings anyway.
		for _, stmt := range append(append([]string{}, catalogMacros...), "SET GLOBAL enable_external_access = false") {
			if _, err := db.SQL().Exec(stmt); err != nil {
				db.Close()
				p.err = fmt.Errorf("post-processing engine: %s: %w", stmt, err)
				return
			}
		}
		p.db = db
	})
	return p.db, p.err
}

func (p *postEngine) close() error {
	if p.db != nil {
		return p.db.Close()
	}
	return nil
}

// loadedInput is an input table with its columns and rows.
type loadedInput struct {
	// stmts, when set, create and fill the table instead (emulated catalog tables).
	stmts []string
	name  string
	names []string
	oids  []uint32
	rows  [][]any
}

// postResult is what the post-processing engine returned.
type postResult struct {
	columns []pgwire.Column
	rows    [][]any
}

// run loads the inputs and runs sql. With describe set, the inputs are empty and the
// result has no rows: only its columns count.
func (p *postEngine) run(ctx context.Context, inputs []loadedInput, sqlText string, args []any, timezone string) (*postResult, error) {
	db, err := p.open()
	if err != nil {
		return nil, err
	}
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return nil, postError(err)
	}
	defer conn.Close()
	var created []string
	defer func() {
		cleanup := context.WithoutCancel(ctx)
		for _, t := range created {
			_, _ = conn.ExecContext(cleanup, "DROP TABLE IF EXISTS temp.main."+quoteDuck(t))
		}
		if timezone != "" {
			_, _ = conn.ExecContext(cleanup, "SET TimeZone = 'UTC'")
		}
	}()
	if timezone != "" {
		if _, err := conn.ExecContext(ctx, "SET TimeZone = "+quoteDuckString(timezone)); err != nil {
			return nil, postError(err)
		}
	}
	for _, in := range inputs {
		if in.stmts != nil {
			created = append(created, in.name)
			for _, stmt := range in.stmts {
				if _, err := conn.ExecContext(ctx, stmt); err != nil {
					return nil, postError(err)
				}
			}
			continue
		}
		cols := make([]string, len(in.names))
		for i, n := range in.names {
			typ := duckTypes[in.oids[i]]
			if typ == "" {
				typ = duckTypeOf(in.oids[i])
			}
			cols[i] = quoteDuck(n) + " " + typ
		}
		if _, err := conn.ExecContext(ctx, "CREATE OR REPLACE TEMP TABLE "+quoteDuck(in.name)+" ("+strings.Join(cols, ", ")+")"); err != nil {
			return nil, postError(err)
		}
		created = append(created, in.name)
		if len(in.rows) == 0 {
			continue
		}
		err := conn.Raw(func(dc any) error {
			a, err := duckdb.NewAppender(dc.(driver.Conn), "temp", "main", in.name)
			if err != nil {
				return err
			}
			vals := make([]driver.Value, len(in.names))
			for _, r := range in.rows {
				for i, v := range r {
					vals[i] = v
				}
				if err := a.AppendRow(vals...); err != nil {
					a.Close()
					return err
				}
			}
			return a.Close()
		})
		if err != nil {
			return nil, postError(err)
		}
	}
	rows, err := conn.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, postError(err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, postError(err)
	}
	res := &postResult{columns: make([]pgwire.Column, len(types))}
	for i, t := range types {
		res.columns[i] = pgwire.Column{Name: t.Name(), Type: oidOfDuck(t.DatabaseTypeName())}
	}
	raw := make([]any, len(types))
	ptrs := make([]any, len(types))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, postError(err)
		}
		row := make([]any, len(raw))
		for i, v := range raw {
			row[i] = duckValue(v, res.columns[i].Type)
		}
		res.rows = append(res.rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, postError(err)
	}
	return res, nil
}

// guardMarker starts the message of the check that stops a non-additive measure from
// being re-aggregated, so that it reaches the client without DuckDB's wording around it.
const guardMarker = "measure "

// postError gives an error of the post-processing engine its SQLSTATE.
func postError(err error) error {
	if errors.Is(err, context.Canceled) {
		return sqlErr("57014", "canceling statement due to user request")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return sqlErr("57014", "canceling statement due to statement timeout")
	}
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return sqlErr("XX000", "post-processing: %v", err)
	}
	msg := de.Msg
	if i := strings.Index(msg, ": "); i > 0 && strings.HasSuffix(msg[:i], "Error") {
		msg = msg[i+2:]
	}
	code := "0A000"
	switch de.Type {
	case duckdb.ErrorTypeInterrupt:
		return sqlErr("57014", "canceling statement due to user request")
	case duckdb.ErrorTypeCatalog:
		code = "42883"
	case duckdb.ErrorTypeBinder:
		code = "42703"
		if strings.Contains(msg, "function") {
			code = "42883"
		}
	case duckdb.ErrorTypeConversion, duckdb.ErrorTypeInvalidInput:
		code = "22P02"
		if strings.HasPrefix(msg, guardMarker) {
			code = "0A000"
		}
	case duckdb.ErrorTypeOutOfRange:
		code = "22003"
	case duckdb.ErrorTypeDivideByZero:
		code = "22012"
	case duckdb.ErrorTypeOutOfMemory:
		code = "53200"
	case duckdb.ErrorTypeParser, duckdb.ErrorTypeSyntax:
		code = "42601"
	}
	return &pgwire.Error{Code: code, Message: msg}
}

// oidOfDuck maps a DuckDB result type to the PostgreSQL type it is sent as.
func oidOfDuck(t string) uint32 {
	switch {
	case t == "BOOLEAN":
		return oidBool
	case t == "TINYINT" || t == "SMALLINT" || t == "UTINYINT":
		return oidInt2
	case t == "INTEGER" || t == "USMALLINT":
		return oidInt4
	case t == "BIGINT" || t == "UINTEGER":
		return oidInt8
	case t == "FLOAT":
		return oidFloat4
	case t == "DOUBLE":
		return oidFloat8
	case strings.HasPrefix(t, "DECIMAL") || t == "HUGEINT" || t == "UBIGINT" || t == "UHUGEINT" || t == "BIGNUM":
		return oidNumeric
	case t == "DATE":
		return oidDate
	case strings.HasPrefix(t, "TIMESTAMP WITH TIME ZONE") || t == "TIMESTAMPTZ":
		return oidTimestamptz
	case strings.HasPrefix(t, "TIMESTAMP"):
		return oidTimestamp
	}
	return oidText
}

// duckTypeOf is the DuckDB type of a column of an input table.
func duckTypeOf(oid uint32) string {
	switch oid {
	case oidInt2:
		return "SMALLINT"
	case oidInt4:
		return "INTEGER"
	case oidFloat4:
		return "FLOAT"
	case oidNumeric:
		return "DECIMAL(38, 10)"
	case oidDate:
		return "DATE"
	case oidTimestamptz:
		return "TIMESTAMPTZ"
	}
	return "VARCHAR"
}

// duckValue converts a value read from DuckDB to the Go type its column's OID is sent
// with: int64 for integers, float64, string for numeric and text, time.Time, bool.
func duckValue(v any, oid uint32) any {
	if v == nil {
		return nil
	}
	switch oid {
	case oidInt2, oidInt4, oidInt8:
		switch x := v.(type) {
		case int8:
			return int64(x)
		case int16:
			return int64(x)
		case int32:
			return int64(x)
		case int64:
			return x
		case uint8:
			return int64(x)
		case uint16:
			return int64(x)
		case uint32:
			return int64(x)
		}
	case oidFloat4, oidFloat8:
		switch x := v.(type) {
		case float32:
			f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
			return f
		case float64:
			return x
		}
	case oidNumeric:
		switch x := v.(type) {
		case duckdb.Decimal:
			return decimalString(x)
		case *big.Int:
			return x.String()
		case uint64:
			return strconv.FormatUint(x, 10)
		}
	case oidTimestamp, oidTimestamptz, oidDate:
		if t, ok := v.(time.Time); ok {
			return t.UTC()
		}
	case oidBool:
		if b, ok := v.(bool); ok {
			return b
		}
	}
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return x.Format("15:04:05.999999")
	case duckdb.Interval:
		return intervalString(x)
	}
	return fmt.Sprint(v)
}

func decimalString(d duckdb.Decimal) string {
	s := new(big.Int).Abs(d.Value).String()
	scale := int(d.Scale)
	if scale > 0 {
		for len(s) <= scale {
			s = "0" + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if d.Value.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// intervalString writes an interval as PostgreSQL does (IntervalStyle postgres).
func intervalString(iv duckdb.Interval) string {
	var parts []string
	years, months := iv.Months/12, iv.Months%12
	plural := func(n int32, unit string) string {
		if n == 1 || n == -1 {
			return fmt.Sprintf("%d %s", n, unit)
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	if years != 0 {
		parts = append(parts, plural(years, "year"))
	}
	if months != 0 {
		parts = append(parts, strings.Replace(plural(months, "mon"), "mons", "mons", 1))
	}
	if iv.Days != 0 {
		parts = append(parts, plural(iv.Days, "day"))
	}
	if iv.Micros != 0 || len(parts) == 0 {
		d := time.Duration(iv.Micros) * time.Microsecond
		sign := ""
		if d < 0 {
			sign, d = "-", -d
		}
		h := int64(d / time.Hour)
		m := int64(d/time.Minute) % 60
		sec := d % time.Minute
		s := fmt.Sprintf("%s%02d:%02d:%02d", sign, h, m, int64(sec/time.Second))
		if frac := sec % time.Second; frac != 0 {
			s += strings.TrimRight(fmt.Sprintf(".%06d", int64(frac/time.Microsecond)), "0")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func quoteDuck(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func quoteDuckString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
