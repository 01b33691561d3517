package pgwire

import (
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// encoder turns Go values into the wire's text and binary formats, and back for
// parameters. Text is written as PostgreSQL 15 writes it (ISO dates, shortest floats,
// hex bytea); binary goes through pgx's pgtype.Map, which knows every built-in type.
type encoder struct {
	types *pgtype.Map
	loc   *time.Location // the session's TimeZone, for timestamptz text

	buf  []byte
	ends []int // end of each value in buf; -1 for NULL
	vals [][]byte
	size int // bytes of the last row
}

// row encodes one row of values for cols in formats. The result is valid until the next
// call.
func (e *encoder) row(cols []Column, formats []int16, vals []any) ([][]byte, error) {
	if len(vals) != len(cols) {
		return nil, fmt.Errorf("pgwire: a row has %d values for %d columns", len(vals), len(cols))
	}
	if e.buf == nil {
		e.buf = make([]byte, 0, 1024)
	}
	e.buf, e.ends = e.buf[:0], e.ends[:0]
	for i, v := range vals {
		var err error
		var null bool
		e.buf, null, err = e.appendValue(e.buf, cols[i].Type, formats[i], v)
		if err != nil {
			return nil, &Error{Code: "XX000", Message: fmt.Sprintf("cannot write value of column %q: %v", cols[i].Name, err)}
		}
		if null {
			e.ends = append(e.ends, -1)
		} else {
			e.ends = append(e.ends, len(e.buf))
		}
	}
	e.vals = e.vals[:0]
	start := 0
	for _, end := range e.ends {
		if end < 0 {
			e.vals = append(e.vals, nil)
			continue
		}
		e.vals = append(e.vals, e.buf[start:end:end])
		start = end
	}
	e.size = len(e.buf) + 4*len(vals) + 7
	return e.vals, nil
}

// appendValue appends v encoded for type oid in format to buf, or reports NULL.
func (e *encoder) appendValue(buf []byte, oid uint32, format int16, v any) ([]byte, bool, error) {
	v = normalize(v)
	if v == nil {
		return buf, true, nil
	}
	if format == pgtype.TextFormatCode || textLike(oid) {
		// The binary form of the text types is their text.
		b, err := e.appendText(buf, oid, v)
		return b, false, err
	}
	b, err := e.appendBinary(buf, oid, v)
	return b, false, err
}

// normalize reduces v to nil, bool, int64, float64, string, time.Time or []byte where it
// is one of those in disguise (another integer type, a named string type, a
// driver.Valuer); other values are returned as they are, for pgtype.
func normalize(v any) any {
	switch x := v.(type) {
	case nil, bool, int64, float64, string, time.Time, []byte:
		return x
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	case *time.Time:
		if x == nil {
			return nil
		}
		return *x
	case driver.Valuer:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return nil
		}
		dv, err := x.Value()
		if err != nil {
			return v
		}
		return normalize(dv)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := rv.Uint(); u <= math.MaxInt64 {
			return int64(u)
		}
		return strconv.FormatUint(rv.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return rv.Bytes()
		}
	case reflect.Pointer:
		if rv.IsNil() {
			return nil
		}
		return normalize(rv.Elem().Interface())
	}
	return v
}

// textLike reports whether the binary format of oid is the same bytes as its text.
func textLike(oid uint32) bool {
	switch oid {
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.UnknownOID, pgtype.JSONOID, 0:
		return true
	}
	return false
}

// appendText appends v in PostgreSQL's text output for type oid.
func (e *encoder) appendText(buf []byte, oid uint32, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return append(buf, x...), nil
	case []byte:
		if oid == pgtype.ByteaOID {
			buf = append(buf, `\x`...)
			return hex.AppendEncode(buf, x), nil
		}
		return append(buf, x...), nil
	case bool:
		switch {
		case oid == pgtype.BoolOID:
			return append(buf, "ft"[b2i(x)]), nil
		case textLike(oid):
			return strconv.AppendBool(buf, x), nil
		}
		return append(buf, "01"[b2i(x)]), nil
	case int64:
		if oid == pgtype.BoolOID {
			return append(buf, "ft"[b2i(x != 0)]), nil
		}
		if err := checkIntRange(oid, x); err != nil {
			return nil, err
		}
		return strconv.AppendInt(buf, x, 10), nil
	case float64:
		switch oid {
		case pgtype.Float4OID:
			return appendFloat(buf, x, 32), nil
		case pgtype.NumericOID:
			return appendNumericFloat(buf, x), nil
		case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
			n, err := floatToInt(x)
			if err == nil {
				err = checkIntRange(oid, n)
			}
			if err != nil {
				return nil, err
			}
			return strconv.AppendInt(buf, n, 10), nil
		}
		return appendFloat(buf, x, 64), nil
	case time.Time:
		switch oid {
		case pgtype.DateOID:
			return appendDate(buf, x), nil
		case pgtype.TimestampOID:
			return appendTimestamp(buf, x), nil
		case pgtype.TimeOID:
			return appendClock(buf, x), nil
		}
		return appendTimestamptz(buf, x.In(e.loc)), nil
	}
	b, err := e.types.Encode(oid, pgtype.TextFormatCode, v, buf)
	if err != nil {
		if textLike(oid) {
			return fmt.Append(buf, v), nil
		}
		return nil, err
	}
	return b, nil
}

// appendBinary appends v in the binary format of type oid.
func (e *encoder) appendBinary(buf []byte, oid uint32, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		if oid == pgtype.ByteaOID {
			return append(buf, x...), nil
		}
		// A value given as text (a decimal, a timestamp) is read as the column's type first.
		var parsed any
		if err := e.types.Scan(oid, pgtype.TextFormatCode, []byte(x), &parsed); err != nil {
			return nil, err
		}
		v = parsed
	case []byte:
		if oid != pgtype.ByteaOID {
			return e.appendBinary(buf, oid, string(x))
		}
	case float64:
		switch oid {
		case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
			n, err := floatToInt(x)
			if err != nil {
				return nil, err
			}
			v = n
		}
	case bool:
		if oid != pgtype.BoolOID {
			v = int64(b2i(x))
		}
	}
	b, err := e.types.Encode(oid, pgtype.BinaryFormatCode, v, buf)
	if err != nil {
		return nil, err
	}
	if b == nil {
		// pgtype encodes an empty value by returning buf, which may be nil: not NULL here.
		b = buf[:len(buf):len(buf)]
	}
	return b, nil
}

// checkFormats refuses binary results for types pgwire cannot write in binary, at Bind
// as PostgreSQL does.
func (e *encoder) checkFormats(cols []Column, formats []int16) *Error {
	for i, col := range cols {
		if formats[i] != pgtype.BinaryFormatCode || textLike(col.Type) {
			continue
		}
		if _, ok := e.types.TypeForOID(col.Type); !ok {
			return &Error{Code: "42883", Message: fmt.Sprintf("no binary output function available for type %d (column %q)", col.Type, col.Name)}
		}
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// floatToInt rounds x to an integer as PostgreSQL's float-to-integer casts do (half to
// even), refusing what has no integer value.
func floatToInt(x float64) (int64, error) {
	r := math.RoundToEven(x)
	if math.IsNaN(r) || r < math.MinInt64 || r >= math.MaxInt64 {
		return 0, fmt.Errorf("%v is out of range for an integer", x)
	}
	return int64(r), nil
}

func checkIntRange(oid uint32, n int64) error {
	switch {
	case oid == pgtype.Int2OID && (n < math.MinInt16 || n > math.MaxInt16):
		return fmt.Errorf("%d is out of range for type smallint", n)
	case oid == pgtype.Int4OID && (n < math.MinInt32 || n > math.MaxInt32):
		return fmt.Errorf("%d is out of range for type integer", n)
	}
	return nil
}

// appendFloat writes x as PostgreSQL 12+ does with the default extra_float_digits: the
// shortest text that reads back as the same value, in exponent form when the decimal
// exponent is below -4 or at least 15 (6 for float4).
func appendFloat(buf []byte, x float64, bits int) []byte {
	switch {
	case math.IsNaN(x):
		return append(buf, "NaN"...)
	case math.IsInf(x, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(x, -1):
		return append(buf, "-Infinity"...)
	}
	if bits == 32 {
		x = float64(float32(x))
	}
	s := strconv.FormatFloat(x, 'e', -1, bits)
	exp, _ := strconv.Atoi(s[strings.IndexByte(s, 'e')+1:])
	limit := 15
	if bits == 32 {
		limit = 6
	}
	if exp < -4 || exp >= limit {
		return append(buf, s...)
	}
	return strconv.AppendFloat(buf, x, 'f', -1, bits)
}

// appendNumericFloat writes a float64 given for a numeric column: its shortest exact
// decimal, never in exponent form, as numeric's output is.
func appendNumericFloat(buf []byte, x float64) []byte {
	switch {
	case math.IsNaN(x):
		return append(buf, "NaN"...)
	case math.IsInf(x, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(x, -1):
		return append(buf, "-Infinity"...)
	}
	return strconv.AppendFloat(buf, x, 'f', -1, 64)
}

// appendYear writes a year as PostgreSQL does: at least four digits, and years before 1
// AD counted back from 1 BC (the suffix is the caller's).
func appendYear(buf []byte, y int) []byte {
	if y <= 0 {
		y = 1 - y
	}
	for p := 1000; p > 1 && y < p; p /= 10 {
		buf = append(buf, '0')
	}
	return strconv.AppendInt(buf, int64(y), 10)
}

func appendTwo(buf []byte, n int) []byte {
	return append(buf, byte('0'+n/10), byte('0'+n%10))
}

func appendYMD(buf []byte, t time.Time) []byte {
	buf = appendYear(buf, t.Year())
	buf = append(buf, '-')
	buf = appendTwo(buf, int(t.Month()))
	buf = append(buf, '-')
	return appendTwo(buf, t.Day())
}

func appendBC(buf []byte, t time.Time) []byte {
	if t.Year() <= 0 {
		buf = append(buf, " BC"...)
	}
	return buf
}

// appendClock writes the time of day with microseconds, trailing zeros dropped.
func appendClock(buf []byte, t time.Time) []byte {
	buf = appendTwo(buf, t.Hour())
	buf = append(buf, ':')
	buf = appendTwo(buf, t.Minute())
	buf = append(buf, ':')
	buf = appendTwo(buf, t.Second())
	if us := t.Nanosecond() / 1000; us != 0 {
		frac := strconv.AppendInt(nil, int64(us+1_000_000), 10)[1:] // six digits
		buf = append(buf, '.')
		buf = append(buf, strings.TrimRight(string(frac), "0")...)
	}
	return buf
}

// roundMicro rounds t to microseconds, PostgreSQL's precision.
func roundMicro(t time.Time) time.Time {
	return t.Round(time.Microsecond)
}

func appendDate(buf []byte, t time.Time) []byte {
	return appendBC(appendYMD(buf, t), t)
}

func appendTimestamp(buf []byte, t time.Time) []byte {
	t = roundMicro(t)
	buf = appendYMD(buf, t)
	buf = append(buf, ' ')
	buf = appendClock(buf, t)
	return appendBC(buf, t)
}

// appendTimestamptz writes t, already in the session's zone, with its offset: "+00",
// "+05:30", "-03:00:12".
func appendTimestamptz(buf []byte, t time.Time) []byte {
	t = roundMicro(t)
	buf = appendYMD(buf, t)
	buf = append(buf, ' ')
	buf = appendClock(buf, t)
	_, off := t.Zone()
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	buf = append(buf, sign)
	buf = appendTwo(buf, off/3600)
	if m, s := off%3600/60, off%60; m != 0 || s != 0 {
		buf = append(buf, ':')
		buf = appendTwo(buf, m)
		if s != 0 {
			buf = append(buf, ':')
			buf = appendTwo(buf, s)
		}
	}
	return appendBC(buf, t)
}

// typeSize is pg_type.typlen of the common types, for RowDescription; -1 (variable)
// for the others.
func typeSize(oid uint32) int16 {
	switch oid {
	case pgtype.BoolOID, pgtype.QCharOID:
		return 1
	case pgtype.Int2OID:
		return 2
	case pgtype.Int4OID, pgtype.Float4OID, pgtype.OIDOID, pgtype.DateOID, pgtype.XIDOID, pgtype.CIDOID,
		regprocOID, regclassOID, regtypeOID:
		return 4
	case pgtype.Int8OID, pgtype.Float8OID, pgtype.TimestampOID, pgtype.TimestamptzOID, pgtype.TimeOID:
		return 8
	case pgtype.TimetzOID:
		return 12
	case pgtype.IntervalOID, pgtype.UUIDOID:
		return 16
	case pgtype.NameOID:
		return 64
	}
	return -1
}

// OIDs pgtype does not name.
const (
	regprocOID  = 24
	regclassOID = 2205
	regtypeOID  = 2206
)

// loadLocation is time.LoadLocation with the spellings PostgreSQL also accepts for UTC.
func loadLocation(name string) (*time.Location, error) {
	switch strings.ToUpper(name) {
	case "UTC", "GMT", "Z", "ZULU", "UCT", "UNIVERSAL", "ETC/UTC", "ETC/GMT":
		return time.UTC, nil
	}
	return time.LoadLocation(name)
}
