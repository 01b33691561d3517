package warehouse

import (
	"context"
	"errors"

	"github.com/cubit-dev/cubit/internal/errs"
)

// Warehouse runs SQL on one data source. Implementations are safe for concurrent use.
type Warehouse interface {
	// Query runs sql with bound args and returns the rows. Values are normalised to nil,
	// bool, int64, float64, string, time.Time or Numeric, whatever the driver returns.
	Query(ctx context.Context, sql string, args []any) (Rows, error)
	// Ping checks that the data source can be reached.
	Ping(ctx context.Context) error
	// Close releases the connections; the Warehouse cannot be used afterwards.
	Close() error
}

// Rows is the result of a query, read one row at a time.
type Rows interface {
	// Columns returns the result's column names in order.
	Columns() []string
	// Next advances to the next row and reports whether there is one; after false, Err
	// says whether the rows ended or failed.
	Next() bool
	// Values returns the current row. The slice is valid until the next call to Next.
	Values() []any
	// Err returns the error that ended the iteration, classified like Query's errors.
	Err() error
	// Close releases the rows; it is safe to call more than once.
	Close() error
}

// Numeric is an exact decimal in its canonical text form ("19867713.45"), as read from
// DECIMAL, NUMERIC and HUGEINT columns. It keeps the column's scale ("12.50" stays "12.50")
// so that money is never rounded through a float on its way to the client.
type Numeric string

// String returns the decimal text.
func (n Numeric) String() string { return string(n) }

// Collect reads every row of rows into memory and closes rows. The returned rows are
// copies, so they stay valid after Collect returns.
func Collect(rows Rows) (cols []string, data [][]any, err error) {
	defer func() {
		if cerr := rows.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	cols = rows.Columns()
	for rows.Next() {
		data = append(data, append([]any(nil), rows.Values()...))
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return cols, data, nil
}

// ContextError returns the Cubit error for a query that failed because ctx ended (a
// timeout or a cancellation), or nil when neither ctx nor err says so. Drivers call it
// first, before their own classification, because a driver reports an interrupted query
// in its own words.
func ContextError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(ctx.Err(), context.DeadlineExceeded):
		return errs.Wrap(errs.KindTimeout, err, "query timed out")
	case errors.Is(err, context.Canceled), errors.Is(ctx.Err(), context.Canceled):
		return errs.Wrap(errs.KindCanceled, err, "query canceled")
	}
	return nil
}

// Unavailable wraps a failure to reach a data source.
func Unavailable(err error) error {
	return errs.Wrap(errs.KindUnavailable, err, "data source unavailable")
}

// SourceError wraps an error that the data source returned while running a query; its
// message carries the database's own message.
func SourceError(err error) error {
	return errs.Wrap(errs.KindSource, err, "data source error")
}
