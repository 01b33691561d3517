package duckdb

import (
	"context"
	"database/sql/driver"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/errs"
)

// LoadTables creates tables in db and fills them through DuckDB's appender, replacing any
// tables of the same names. It runs in one transaction: on error no table is changed.
// Tables are created in the main schema without their primary keys: DuckDB does not use
// them to plan joins or aggregates, and maintaining the index costs a third of the load time.
func LoadTables(ctx context.Context, db *DB, tables []demo.Table) (err error) {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return classify(ctx, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return classify(ctx, err)
	}
	defer func() {
		if err != nil {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	for _, t := range tables {
		ddl, err := createTable(t)
		if err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+quoteIdent(t.Name)); err != nil {
			return classify(ctx, err)
		}
		if _, err := conn.ExecContext(ctx, ddl); err != nil {
			return classify(ctx, err)
		}
		if err := conn.Raw(func(dc any) error { return appendRows(ctx, dc.(driver.Conn), t) }); err != nil {
			return err
		}
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return classify(ctx, err)
	}
	return nil
}

func createTable(t demo.Table) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (", quoteIdent(t.Name))
	for i, c := range t.Columns {
		if !c.Type.Valid() {
			return "", errs.Wrap(errs.KindInternal, nil, "table %s column %s: unknown type %q", t.Name, c.Name, c.Type)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", quoteIdent(c.Name), c.Type)
	}
	b.WriteString(")")
	return b.String(), nil
}

// appendRows streams t's rows into its table. Generating and converting rows runs in its own
// goroutine, beside the appender's cgo calls, which nearly halves the load time on two cores.
func appendRows(ctx context.Context, dc driver.Conn, t demo.Table) (err error) {
	app, err := duckdb.NewAppenderFromConn(dc, "", t.Name)
	if err != nil {
		return classify(ctx, err)
	}
	defer func() {
		if cerr := app.Close(); err == nil && cerr != nil {
			err = classify(ctx, cerr)
		}
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan [][]driver.Value, 4)
	produced := make(chan error, 1)
	go func() {
		defer close(batches)
		produced <- produceRows(ctx, t, batches)
	}()
	for batch := range batches {
		for _, vals := range batch {
			if err := app.AppendRow(vals...); err != nil {
				cancel()
				for range batches { // let the producer finish
				}
				return errs.Wrap(errs.KindInternal, err, "appending to %s", t.Name)
			}
		}
	}
	if err := <-produced; err != nil {
		return err
	}
	return nil
}

const batchSize = 2048

// produceRows converts t's rows to appender values (DECIMAL strings to duckdb.Decimal) and
// sends them in batches until the rows end or ctx is canceled.
func produceRows(ctx context.Context, t demo.Table, out chan<- [][]driver.Value) error {
	scales := make([]int, len(t.Columns)) // -1: not a DECIMAL column
	for i, c := range t.Columns {
		scales[i] = -1
		if _, s, ok := c.Type.DecimalParts(); ok {
			scales[i] = s
		}
	}
	batch := make([][]driver.Value, 0, batchSize)
	send := func() bool {
		select {
		case out <- batch:
			batch = make([][]driver.Value, 0, batchSize)
			return true
		case <-ctx.Done():
			return false
		}
	}
	for row := range t.Rows {
		vals := make([]driver.Value, len(row))
		for i, v := range row {
			if s, ok := v.(string); ok && scales[i] >= 0 {
				d, err := parseDecimal(s, scales[i])
				if err != nil {
					return errs.Wrap(errs.KindInternal, err, "table %s column %s", t.Name, t.Columns[i].Name)
				}
				v = d
			}
			vals[i] = v
		}
		if batch = append(batch, vals); len(batch) == batchSize && !send() {
			return classify(ctx, ctx.Err())
		}
	}
	if len(batch) > 0 && !send() {
		return classify(ctx, ctx.Err())
	}
	return nil
}

// parseDecimal reads a decimal string with at most scale fractional digits as the appender
// wants it: the unscaled integer at the column's scale.
func parseDecimal(s string, scale int) (duckdb.Decimal, error) {
	intPart, frac, _ := strings.Cut(s, ".")
	if len(frac) > scale {
		return duckdb.Decimal{}, fmt.Errorf("%q has more than %d decimal places", s, scale)
	}
	digits := intPart + frac + strings.Repeat("0", scale-len(frac))
	// Most values fit an int64; parsing them without math/big halves the load time of the demo.
	if n, err := strconv.ParseInt(digits, 10, 64); err == nil {
		return duckdb.Decimal{Scale: uint8(scale), Value: big.NewInt(n)}, nil
	}
	v, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return duckdb.Decimal{}, fmt.Errorf("%q is not a decimal number", s)
	}
	return duckdb.Decimal{Scale: uint8(scale), Value: v}, nil
}
