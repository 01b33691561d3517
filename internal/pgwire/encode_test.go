package pgwire

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"testing"
	"time"
	_ "time/tzdata" // the zones these tests use exist on every host

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
)

func newTestEncoder() *encoder {
	return &encoder{types: pgtype.NewMap(), loc: time.UTC}
}

func TestTextOutput(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2024, 7, 1, 12, 30, 0, 0, time.UTC)
	cases := []struct {
		oid  uint32
		v    any
		want string
	}{
		// Floats as PostgreSQL 12+ writes them (shortest, exponent outside [-4, 15)).
		{pgtype.Float8OID, 0.1, "0.1"},
		{pgtype.Float8OID, 1234567.0, "1234567"},
		{pgtype.Float8OID, 1e14, "100000000000000"},
		{pgtype.Float8OID, 1e15, "1e+15"},
		{pgtype.Float8OID, 1.5e-5, "1.5e-05"},
		{pgtype.Float8OID, 0.0001, "0.0001"},
		{pgtype.Float8OID, math.Copysign(0, -1), "-0"},
		{pgtype.Float8OID, math.NaN(), "NaN"},
		{pgtype.Float8OID, math.Inf(1), "Infinity"},
		{pgtype.Float8OID, math.Inf(-1), "-Infinity"},
		{pgtype.Float4OID, 0.1, "0.1"},
		{pgtype.Float4OID, 1234567.0, "1.234567e+06"},
		{pgtype.Float4OID, float32(3.14), "3.14"},
		{pgtype.NumericOID, 1e20, "100000000000000000000"},
		{pgtype.NumericOID, 0.25, "0.25"},
		{pgtype.NumericOID, int64(-42), "-42"},
		{pgtype.NumericOID, "12.50", "12.50"},
		{pgtype.Int4OID, 2.5, "2"}, // half to even, as a float-to-integer cast
		{pgtype.Int8OID, 3.5, "4"},
		{pgtype.Int2OID, 7, "7"},
		{pgtype.Int8OID, uint64(math.MaxUint64), "18446744073709551615"},
		{pgtype.BoolOID, true, "t"},
		{pgtype.BoolOID, false, "f"},
		{pgtype.TextOID, true, "true"},
		{pgtype.ByteaOID, []byte{0xde, 0xad}, `\xdead`},
		{pgtype.ByteaOID, []byte{}, `\x`},
		{pgtype.DateOID, time.Date(2024, 2, 29, 23, 0, 0, 0, time.UTC), "2024-02-29"},
		{pgtype.DateOID, time.Date(-43, 3, 15, 0, 0, 0, 0, time.UTC), "0044-03-15 BC"},
		{pgtype.DateOID, time.Date(5, 1, 2, 0, 0, 0, 0, time.UTC), "0005-01-02"},
		{pgtype.TimestampOID, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "2024-01-02 03:04:05"},
		{pgtype.TimestampOID, time.Date(2024, 1, 2, 3, 4, 5, 120000000, time.UTC), "2024-01-02 03:04:05.12"},
		{pgtype.TimestampOID, time.Date(2024, 1, 2, 3, 4, 5, 999999600, time.UTC), "2024-01-02 03:04:06"},
		{pgtype.TimestampOID, time.Date(12345, 1, 2, 3, 4, 5, 0, time.UTC), "12345-01-02 03:04:05"},
		{pgtype.TimestamptzOID, ts, "2024-07-01 12:30:00+00"},
		{pgtype.TimestamptzOID, ts.In(berlin), "2024-07-01 12:30:00+00"}, // written in the session's zone
		{pgtype.TimeOID, time.Date(1, 1, 1, 13, 14, 15, 500000, time.UTC), "13:14:15.0005"},
		{pgtype.UUIDOID, [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, "01020304-0506-0708-090a-0b0c0d0e0f10"},
		{pgtype.TextArrayOID, []string{"a", "b c"}, `{a,"b c"}`},
		{pgtype.Int8ArrayOID, []int64{1, 2}, "{1,2}"},
		{pgtype.TextOID, struct{ A int }{1}, "{1}"},
	}
	e := newTestEncoder()
	for _, c := range cases {
		got, null, err := e.appendValue(nil, c.oid, pgtype.TextFormatCode, c.v)
		if err != nil || null || string(got) != c.want {
			t.Errorf("%d %#v: got %q (null %v, %v), want %q", c.oid, c.v, got, null, err, c.want)
		}
	}
	e.loc = berlin
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{ts, "2024-07-01 14:30:00+02"},
		{time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "2024-01-01 01:00:00+01"},
		{time.Date(1850, 1, 1, 0, 0, 0, 0, time.UTC), "1850-01-01 00:53:28+00:53:28"},
	} {
		if got, _, _ := e.appendValue(nil, pgtype.TimestamptzOID, 0, c.t); string(got) != c.want {
			t.Errorf("timestamptz %v in Berlin: %q, want %q", c.t, got, c.want)
		}
	}
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	e.loc = kolkata
	if got, _, _ := e.appendValue(nil, pgtype.TimestamptzOID, 0, ts); string(got) != "2024-07-01 18:00:00+05:30" {
		t.Errorf("Kolkata: %q", got)
	}

	// NULLs and errors.
	var np *int64
	for _, v := range []any{nil, np, (*time.Time)(nil), pgtype.Int8{}} {
		if _, null, err := e.appendValue(nil, pgtype.Int8OID, 1, v); !null || err != nil {
			t.Errorf("%#v is not NULL (%v)", v, err)
		}
	}
	for _, c := range []struct {
		oid    uint32
		format int16
		v      any
	}{
		{pgtype.Int2OID, 0, int64(40000)},
		{pgtype.Int4OID, 1, int64(math.MaxInt64)},
		{pgtype.Int8OID, 0, math.NaN()},
		{pgtype.Int8OID, 1, "abc"},
		{pgtype.DateOID, 1, true},
	} {
		if _, _, err := e.appendValue(nil, c.oid, c.format, c.v); err == nil {
			t.Errorf("%d format %d %#v: no error", c.oid, c.format, c.v)
		}
	}
}

func TestBinaryOutput(t *testing.T) {
	e := newTestEncoder()
	cases := []struct {
		oid  uint32
		v    any
		want []byte
	}{
		{pgtype.Int2OID, int64(-2), []byte{0xff, 0xfe}},
		{pgtype.Int4OID, 7, []byte{0, 0, 0, 7}},
		{pgtype.Int8OID, 2.0, []byte{0, 0, 0, 0, 0, 0, 0, 2}},
		{pgtype.BoolOID, true, []byte{1}},
		{pgtype.Float4OID, 1.5, []byte{0x3f, 0xc0, 0, 0}},
		{pgtype.TextOID, "hé", []byte("hé")},
		{pgtype.TextOID, "", []byte{}},
		{pgtype.ByteaOID, []byte{}, []byte{}},
		{pgtype.ByteaOID, "raw", []byte("raw")},
		{pgtype.DateOID, time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC), []byte{0, 0, 0, 1}},
		{pgtype.DateOID, "2000-01-03", []byte{0, 0, 0, 2}},
		{pgtype.TimestampOID, time.Date(2000, 1, 1, 0, 0, 1, 0, time.UTC), []byte{0, 0, 0, 0, 0, 0x0f, 0x42, 0x40}},
		{pgtype.TimestamptzOID, time.Date(2000, 1, 1, 1, 0, 1, 0, time.FixedZone("", 3600)), []byte{0, 0, 0, 0, 0, 0x0f, 0x42, 0x40}},
		{pgtype.NumericOID, "1.5", []byte{0, 2, 0, 0, 0, 0, 0, 1, 0, 1, 0x13, 0x88}},
		{pgtype.NumericOID, int64(1), []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 1}},
		{pgtype.UUIDOID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", []byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}},
	}
	for _, c := range cases {
		got, null, err := e.appendValue(nil, c.oid, pgtype.BinaryFormatCode, c.v)
		if err != nil || null || !bytes.Equal(got, c.want) {
			t.Errorf("%d %#v: got %v (null %v, %v), want %v", c.oid, c.v, got, null, err, c.want)
		}
	}
	// An empty value in a row is not NULL.
	row, err := e.row([]Column{{Type: pgtype.TextOID}, {Type: pgtype.ByteaOID}, {Type: pgtype.Int4OID}},
		[]int16{1, 1, 1}, []any{"", []byte{}, nil})
	if err != nil || row[0] == nil || row[1] == nil || row[2] != nil {
		t.Errorf("row %#v %v", row, err)
	}
	if err := e.checkFormats([]Column{{Name: "x", Type: 999999}}, []int16{1}); err == nil || err.Code != "42883" {
		t.Errorf("binary for an unknown type: %v", err)
	}
}

func TestDecodeParams(t *testing.T) {
	e := newTestEncoder()
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	e.loc = kolkata
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	text := []struct {
		oid  uint32
		in   string
		want any
	}{
		{pgtype.Int2OID, " -32768 ", int64(-32768)},
		{pgtype.Int4OID, "+42", int64(42)},
		{pgtype.Int8OID, "9223372036854775807", int64(math.MaxInt64)},
		{pgtype.OIDOID, "4294967295", int64(4294967295)},
		{pgtype.Float8OID, "1e-5", 1e-5},
		{pgtype.Float8OID, "-Infinity", math.Inf(-1)},
		{pgtype.Float4OID, "0.1", float64(float32(0.1))},
		{pgtype.NumericOID, " 12.500 ", "12.500"},
		{pgtype.NumericOID, "-1.5E+10", "-1.5E+10"},
		{pgtype.NumericOID, ".5", ".5"},
		{pgtype.NumericOID, "nan", "NaN"},
		{pgtype.BoolOID, "TRUE", true},
		{pgtype.BoolOID, " y ", true},
		{pgtype.BoolOID, "on", true},
		{pgtype.BoolOID, "of", false},
		{pgtype.BoolOID, "0", false},
		{pgtype.TextOID, "héllo", "héllo"},
		{0, "untyped", "untyped"},
		{pgtype.JSONOID, `{"a":1}`, `{"a":1}`},
		{pgtype.DateOID, "2024-02-29", utc(2024, 2, 29, 0, 0, 0, 0)},
		{pgtype.DateOID, "2024-02-29 13:00:00", utc(2024, 2, 29, 0, 0, 0, 0)},
		{pgtype.DateOID, "0044-03-15 BC", utc(-43, 3, 15, 0, 0, 0, 0)},
		{pgtype.TimestampOID, "2024-01-02 03:04:05.123456789", utc(2024, 1, 2, 3, 4, 5, 123457000)},
		{pgtype.TimestampOID, "2024-01-02T03:04:05Z", utc(2024, 1, 2, 3, 4, 5, 0)}, // the zone is ignored
		{pgtype.TimestampOID, "2024-01-02 03:04", utc(2024, 1, 2, 3, 4, 0, 0)},
		{pgtype.TimestampOID, "2024-01-02", utc(2024, 1, 2, 0, 0, 0, 0)},
		{pgtype.TimestampOID, "2024-01-02 24:00:00", utc(2024, 1, 3, 0, 0, 0, 0)},
		{pgtype.TimestamptzOID, "2024-01-02 03:04:05+02", utc(2024, 1, 2, 1, 4, 5, 0)},
		{pgtype.TimestamptzOID, "2024-01-02 03:04:05-0230", utc(2024, 1, 2, 5, 34, 5, 0)},
		{pgtype.TimestamptzOID, "2024-01-02 03:04:05.5 +05:30", utc(2024, 1, 1, 21, 34, 5, 500000000)},
		{pgtype.TimestamptzOID, "2024-01-02 03:04:05 UTC", utc(2024, 1, 2, 3, 4, 5, 0)},
		{pgtype.TimestamptzOID, "2024-01-02 03:04:05 Europe/Berlin", utc(2024, 1, 2, 2, 4, 5, 0)},
		{pgtype.TimestamptzOID, "2024-01-02 03:04:05", utc(2024, 1, 1, 21, 34, 5, 0)}, // the session's zone
		{pgtype.ByteaOID, `\x00ff 10`, []byte{0, 0xff, 0x10}},
		{pgtype.ByteaOID, `a\\b\001`, []byte{'a', '\\', 'b', 1}},
		{pgtype.UUIDOID, "{A0EEBC99-9C0B4EF8-BB6D6BB9-BD380A11}", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{pgtype.UUIDOID, "a0eebc999c0b4ef8bb6d6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	}
	for _, c := range text {
		got, err := e.decodeParam(c.oid, pgtype.TextFormatCode, []byte(c.in))
		if err != nil || !reflect.DeepEqual(got, c.want) {
			if gt, ok := got.(time.Time); ok && gt.Equal(c.want.(time.Time)) && err == nil {
				continue
			}
			t.Errorf("%s %q: got %#v, %v; want %#v", typeName(c.oid), c.in, got, err, c.want)
		}
	}
	bad := []struct {
		oid  uint32
		in   string
		code string
	}{
		{pgtype.Int2OID, "32768", "22003"},
		{pgtype.Int4OID, "1.5", "22P02"},
		{pgtype.Int8OID, "", "22P02"},
		{pgtype.Int8OID, "1_000", "22P02"},
		{pgtype.Float8OID, "0x10", "22P02"},
		{pgtype.Float8OID, "1e400", "22003"},
		{pgtype.Float4OID, "1e40", "22003"},
		{pgtype.NumericOID, "1e", "22P02"},
		{pgtype.NumericOID, "--1", "22P02"},
		{pgtype.NumericOID, ".", "22P02"},
		{pgtype.BoolOID, "o", "22P02"},
		{pgtype.BoolOID, "", "22P02"},
		{pgtype.DateOID, "2023-02-29", "22007"},
		{pgtype.DateOID, "0000-01-01", "22007"},
		{pgtype.TimestampOID, "2024-01-02 25:00", "22007"},
		{pgtype.TimestampOID, "2024-01-02 10:61", "22007"},
		{pgtype.TimestampOID, "yesterday", "22007"},
		{pgtype.TimestamptzOID, "2024-01-02 03:04:05 Mars/Base", "22007"},
		{pgtype.TimestamptzOID, "2024-01-02 03:04:05+99", "22007"},
		{pgtype.ByteaOID, `\xabc`, "22P02"},
		{pgtype.ByteaOID, `\9`, "22P02"},
		{pgtype.UUIDOID, "a0eebc99", "22P02"},
		{pgtype.UUIDOID, "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "22P02"},
		{pgtype.TextOID, "a\x00b", "22021"},
		{pgtype.TextOID, "\xff", "22021"},
	}
	for _, c := range bad {
		_, err := e.decodeParam(c.oid, pgtype.TextFormatCode, []byte(c.in))
		pe, ok := err.(*Error)
		if !ok || pe.Code != c.code {
			t.Errorf("%s %q: error %v, want %s", typeName(c.oid), c.in, err, c.code)
		}
	}

	binaryCases := []struct {
		oid  uint32
		in   []byte
		want any
	}{
		{pgtype.Int2OID, []byte{0xff, 0xff}, int64(-1)},
		{pgtype.Int4OID, []byte{0, 0, 1, 0}, int64(256)},
		{pgtype.Int8OID, []byte{0x80, 0, 0, 0, 0, 0, 0, 0}, int64(math.MinInt64)},
		{pgtype.Float4OID, []byte{0x3f, 0xc0, 0, 0}, 1.5},
		{pgtype.Float8OID, []byte{0x3f, 0xf8, 0, 0, 0, 0, 0, 0}, 1.5},
		{pgtype.BoolOID, []byte{1}, true},
		{pgtype.NumericOID, []byte{0, 2, 0, 0, 0, 0, 0, 1, 0, 1, 0x13, 0x88}, "1.5"},
		{pgtype.DateOID, []byte{0xff, 0xff, 0xff, 0xff}, utc(1999, 12, 31, 0, 0, 0, 0)},
		{pgtype.TimestampOID, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, utc(1999, 12, 31, 23, 59, 59, 999999000)},
		{pgtype.TimestamptzOID, []byte{0, 0, 0, 0, 0, 0x0f, 0x42, 0x40}, utc(2000, 1, 1, 0, 0, 1, 0)},
		{pgtype.TimestampOID, binary.BigEndian.AppendUint64(nil, uint64((time.Date(1500, 6, 1, 1, 2, 3, 4000, time.UTC).UnixMicro() - 946684800e6))), utc(1500, 6, 1, 1, 2, 3, 4000)},
		{pgtype.TimestampOID, binary.BigEndian.AppendUint64(nil, uint64((time.Date(3000, 6, 1, 1, 2, 3, 4000, time.UTC).UnixMicro() - 946684800e6))), utc(3000, 6, 1, 1, 2, 3, 4000)},
		{pgtype.ByteaOID, []byte{}, []byte{}},
		{pgtype.UUIDOID, make([]byte, 16), "00000000-0000-0000-0000-000000000000"},
		{pgtype.TextOID, []byte("x"), "x"},
		{pgtype.VarcharOID, []byte("v"), "v"},
	}
	for _, c := range binaryCases {
		got, err := e.decodeParam(c.oid, pgtype.BinaryFormatCode, c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("binary %s %v: got %#v, %v; want %#v", typeName(c.oid), c.in, got, err, c.want)
		}
	}
	for _, c := range []struct {
		oid uint32
		in  []byte
	}{
		{pgtype.Int2OID, []byte{1}}, {pgtype.Int8OID, []byte{1, 2, 3, 4}}, {pgtype.BoolOID, []byte{2}},
		{pgtype.DateOID, []byte{0x7f, 0xff, 0xff, 0xff}}, {pgtype.UUIDOID, []byte{1}}, {pgtype.NumericOID, []byte{1}},
		{pgtype.JSONBOID, []byte{1, '{', '}'}}, {pgtype.TextOID, []byte{0xff}},
	} {
		if _, err := e.decodeParam(c.oid, pgtype.BinaryFormatCode, c.in); err == nil {
			t.Errorf("binary %d %v: no error", c.oid, c.in)
		}
	}
	if v, err := e.decodeParam(pgtype.Int4OID, 1, nil); v != nil || err != nil {
		t.Errorf("NULL: %v %v", v, err)
	}
	if _, err := e.decodeParam(pgtype.Int4OID, 2, []byte("1")); err == nil {
		t.Errorf("format 2 accepted")
	}
}

func TestParseOptions(t *testing.T) {
	got := parseOptions(`-c search_path=public -csearch-mode=x --application-name=my\ app  -c TimeZone=UTC -X`)
	want := map[string]string{"search_path": "public", "search_mode": "x", "application_name": "my app", "TimeZone": "UTC"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v", got)
	}
	p := StartupParameters(ConnInfo{Startup: map[string]string{"user": "bob", "application_name": "a", "TimeZone": "Nowhere/Else"},
		Options: map[string]string{"timezone": "Asia/Tokyo"}})
	if p["session_authorization"] != "bob" || p["application_name"] != "a" || p["TimeZone"] != "Asia/Tokyo" || p["server_version"] != "15.0" {
		t.Errorf("StartupParameters: %v", p)
	}
}

func TestErrorResponseHasNoInnerNUL(t *testing.T) {
	e := errorResponse(&Error{Code: "XX000", Message: "a\x00Sinjected"})
	buf, err := e.Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	var back pgproto3.ErrorResponse
	if err := back.Decode(buf[5:]); err != nil || back.Message != `a\0Sinjected` || back.Severity != "ERROR" {
		t.Errorf("%+v %v", back, err)
	}
}
