package warehouse

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/cubit-dev/cubit/internal/errs"
)

// sliceRows serves fixed rows and reuses its Values slice, as drivers do.
type sliceRows struct {
	data   [][]any
	i      int
	buf    []any
	err    error
	closed int
}

func (r *sliceRows) Columns() []string { return []string{"a", "b"} }
func (r *sliceRows) Next() bool {
	if r.i >= len(r.data) {
		return false
	}
	r.buf = append(r.buf[:0], r.data[r.i]...)
	r.i++
	return true
}
func (r *sliceRows) Values() []any { return r.buf }
func (r *sliceRows) Err() error    { return r.err }
func (r *sliceRows) Close() error  { r.closed++; return nil }

func TestCollectCopiesRowsAndCloses(t *testing.T) {
	r := &sliceRows{data: [][]any{{int64(1), "x"}, {int64(2), Numeric("1.50")}}}
	cols, data, err := Collect(r)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{{int64(1), "x"}, {int64(2), Numeric("1.50")}}
	if !reflect.DeepEqual(cols, []string{"a", "b"}) || !reflect.DeepEqual(data, want) || r.closed != 1 {
		t.Errorf("got %v %v closed=%d", cols, data, r.closed)
	}

	failing := &sliceRows{err: SourceError(errors.New("boom"))}
	if _, _, err := Collect(failing); errs.KindOf(err) != errs.KindSource || failing.closed != 1 {
		t.Errorf("got %v, closed=%d", err, failing.closed)
	}
}

func TestContextError(t *testing.T) {
	live := context.Background()
	canceled, cancel := context.WithCancel(live)
	cancel()
	expired, cancel2 := context.WithTimeout(live, 0)
	defer cancel2()
	other := errors.New("syntax error")
	for _, tc := range []struct {
		ctx  context.Context
		err  error
		want errs.Kind
	}{
		{live, other, ""},
		{live, context.Canceled, errs.KindCanceled},
		{live, context.DeadlineExceeded, errs.KindTimeout},
		{canceled, other, errs.KindCanceled},
		{expired, other, errs.KindTimeout},
	} {
		got := ContextError(tc.ctx, tc.err)
		if errs.KindOf(got) != tc.want {
			t.Errorf("ctx err %v, err %v: kind %q", tc.ctx.Err(), tc.err, errs.KindOf(got))
		}
	}
	if errs.KindOf(Unavailable(other)) != errs.KindUnavailable || Unavailable(other).Error() != "data source unavailable: syntax error" {
		t.Errorf("Unavailable: %v", Unavailable(other))
	}
}
