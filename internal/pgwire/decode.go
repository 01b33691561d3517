package pgwire

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"
)

// typeName is the SQL name of a type in error messages.
func typeName(oid uint32) string {
	switch oid {
	case pgtype.Int2OID:
		return "smallint"
	case pgtype.Int4OID:
		return "integer"
	case pgtype.Int8OID:
		return "bigint"
	case pgtype.OIDOID:
		return "oid"
	case pgtype.Float4OID:
		return "real"
	case pgtype.Float8OID:
		return "double precision"
	case pgtype.NumericOID:
		return "numeric"
	case pgtype.BoolOID:
		return "boolean"
	case pgtype.DateOID:
		return "date"
	case pgtype.TimestampOID:
		return "timestamp without time zone"
	case pgtype.TimestamptzOID:
		return "timestamp with time zone"
	case pgtype.ByteaOID:
		return "bytea"
	case pgtype.UUIDOID:
		return "uuid"
	}
	return fmt.Sprintf("type %d", oid)
}

func invalidInput(oid uint32, s string) *Error {
	code := "22P02" // invalid_text_representation
	switch oid {
	case pgtype.DateOID, pgtype.TimestampOID, pgtype.TimestamptzOID:
		code = "22007" // invalid_datetime_format
	}
	return &Error{Code: code, Message: fmt.Sprintf("invalid input syntax for type %s: %q", typeName(oid), s)}
}

func outOfRange(oid uint32, s string) *Error {
	return &Error{Code: "22003", Message: fmt.Sprintf("value %q is out of range for type %s", s, typeName(oid))}
}

// decodeParam decodes a Bind parameter of type oid in format to the Go value Statement
// documents. Types it does not know are passed as their text.
func (e *encoder) decodeParam(oid uint32, format int16, src []byte) (any, error) {
	if src == nil {
		return nil, nil
	}
	switch format {
	case pgtype.TextFormatCode:
		return e.decodeText(oid, string(src))
	case pgtype.BinaryFormatCode:
		return e.decodeBinary(oid, src)
	}
	return nil, &Error{Code: "22023", Message: fmt.Sprintf("unsupported format code: %d", format)}
}

func (e *encoder) decodeText(oid uint32, s string) (any, error) {
	switch oid {
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID:
		return parseInt(oid, s)
	case pgtype.Float4OID, pgtype.Float8OID:
		return parseFloat(oid, s)
	case pgtype.NumericOID:
		return parseNumeric(s)
	case pgtype.BoolOID:
		return parseBool(s)
	case pgtype.DateOID:
		t, _, err := parseDateTime(s, true)
		if err != nil {
			return nil, invalidInput(oid, s)
		}
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
	case pgtype.TimestampOID:
		t, _, err := parseDateTime(s, false)
		if err != nil {
			return nil, invalidInput(oid, s)
		}
		return t, nil
	case pgtype.TimestamptzOID:
		t, zoned, err := parseDateTime(s, false)
		if err != nil {
			return nil, invalidInput(oid, s)
		}
		if !zoned {
			// Without an offset the time is the session's wall clock.
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), e.loc)
		}
		return t.UTC(), nil
	case pgtype.ByteaOID:
		return parseBytea(s)
	case pgtype.UUIDOID:
		return parseUUID(s)
	}
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return nil, errEncoding()
	}
	return s, nil
}

func (e *encoder) decodeBinary(oid uint32, b []byte) (any, error) {
	bad := &Error{Code: "22P03", Message: fmt.Sprintf("incorrect binary data format for type %s", typeName(oid))}
	switch oid {
	case pgtype.Int2OID:
		if len(b) != 2 {
			return nil, bad
		}
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case pgtype.Int4OID:
		if len(b) != 4 {
			return nil, bad
		}
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	case pgtype.OIDOID:
		if len(b) != 4 {
			return nil, bad
		}
		return int64(binary.BigEndian.Uint32(b)), nil
	case pgtype.Int8OID:
		if len(b) != 8 {
			return nil, bad
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	case pgtype.Float4OID:
		if len(b) != 4 {
			return nil, bad
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case pgtype.Float8OID:
		if len(b) != 8 {
			return nil, bad
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case pgtype.BoolOID:
		if len(b) != 1 || b[0] > 1 {
			return nil, bad
		}
		return b[0] == 1, nil
	case pgtype.NumericOID:
		var n pgtype.Numeric
		if err := e.types.Scan(oid, pgtype.BinaryFormatCode, b, &n); err != nil || !n.Valid {
			return nil, bad
		}
		text, err := e.types.Encode(oid, pgtype.TextFormatCode, n, nil)
		if err != nil {
			return nil, bad
		}
		return string(text), nil
	case pgtype.DateOID:
		if len(b) != 4 {
			return nil, bad
		}
		days := int32(binary.BigEndian.Uint32(b))
		if days == math.MaxInt32 || days == math.MinInt32 {
			return nil, &Error{Code: "22008", Message: "infinite dates are not supported"}
		}
		return time.Date(2000, 1, 1+int(days), 0, 0, 0, 0, time.UTC), nil
	case pgtype.TimestampOID, pgtype.TimestamptzOID:
		if len(b) != 8 {
			return nil, bad
		}
		us := int64(binary.BigEndian.Uint64(b))
		if us == math.MaxInt64 || us == math.MinInt64 {
			return nil, &Error{Code: "22008", Message: "infinite timestamps are not supported"}
		}
		// Through Unix seconds: a time.Duration overflows 292 years from 2000.
		return time.Unix(us/1e6+y2kUnix, us%1e6*1000).UTC(), nil
	case pgtype.ByteaOID:
		return append([]byte{}, b...), nil
	case pgtype.UUIDOID:
		if len(b) != 16 {
			return nil, bad
		}
		return formatUUID(b), nil
	}
	if textLike(oid) {
		if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
			return nil, errEncoding()
		}
		return string(b), nil
	}
	return nil, &Error{Code: "0A000", Message: fmt.Sprintf("binary format is not supported for parameters of type %d", oid)}
}

// errEncoding is PostgreSQL's error for text that is not valid UTF-8, or holds a NUL.
func errEncoding() *Error {
	return &Error{Code: "22021", Message: `invalid byte sequence for encoding "UTF8"`}
}

// y2kUnix is 2000-01-01 in Unix seconds, the epoch of PostgreSQL's binary timestamps.
const y2kUnix = 946684800

func parseInt(oid uint32, s string) (any, error) {
	t := strings.TrimSpace(s)
	bits := 64
	switch oid {
	case pgtype.Int2OID:
		bits = 16
	case pgtype.Int4OID:
		bits = 32
	}
	if oid == pgtype.OIDOID {
		n, err := strconv.ParseUint(t, 10, 32)
		if err != nil {
			return nil, invalidInput(oid, s)
		}
		return int64(n), nil
	}
	n, err := strconv.ParseInt(t, 10, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return nil, outOfRange(oid, s)
		}
		return nil, invalidInput(oid, s)
	}
	return n, nil
}

func parseFloat(oid uint32, s string) (any, error) {
	t := strings.TrimSpace(s)
	// strconv also reads hexadecimal floats and underscores, which PostgreSQL does not.
	if t == "" || strings.ContainsAny(t, "xX_pP") {
		return nil, invalidInput(oid, s)
	}
	bits := 64
	if oid == pgtype.Float4OID {
		bits = 32
	}
	f, err := strconv.ParseFloat(t, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return nil, outOfRange(oid, s)
		}
		return nil, invalidInput(oid, s)
	}
	return f, nil
}

// parseNumeric checks a numeric's text and returns it trimmed: pgwire does no decimal
// arithmetic.
func parseNumeric(s string) (any, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "nan":
		return "NaN", nil
	case "infinity", "+infinity", "inf", "+inf":
		return "Infinity", nil
	case "-infinity", "-inf":
		return "-Infinity", nil
	}
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		i++
	}
	nd := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i, nd = i+1, nd+1
	}
	if i < len(t) && t[i] == '.' {
		i++
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i, nd = i+1, nd+1
		}
	}
	if nd == 0 {
		return nil, invalidInput(pgtype.NumericOID, s)
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		ne := 0
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i, ne = i+1, ne+1
		}
		if ne == 0 {
			return nil, invalidInput(pgtype.NumericOID, s)
		}
	}
	if i != len(t) {
		return nil, invalidInput(pgtype.NumericOID, s)
	}
	return t, nil
}

// parseBool reads a boolean as PostgreSQL does: any unambiguous prefix of true, false,
// yes, no; on, off; 1, 0; case-insensitive, surrounding blanks ignored.
func parseBool(s string) (any, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch {
	case t == "":
	case strings.HasPrefix("true", t), strings.HasPrefix("yes", t), t == "on", t == "1":
		return true, nil
	case strings.HasPrefix("false", t), strings.HasPrefix("no", t), t == "off", t == "of", t == "0":
		return false, nil
	}
	return nil, invalidInput(pgtype.BoolOID, s)
}

// parseDateTime reads an ISO date or timestamp: "2024-01-02", "2024-01-02 03:04:05.123456",
// with "T" between, an optional zone ("Z", "+02", "+05:30", "-0800", "UTC", a zone name)
// and " BC". It returns the wall clock in UTC when there is no zone (zoned false), and
// the instant otherwise. A date-only read (dateOnly) ignores a time part.
func parseDateTime(s string, dateOnly bool) (time.Time, bool, error) {
	bad := fmt.Errorf("invalid")
	t := strings.TrimSpace(s)
	bc := false
	if u := strings.ToUpper(t); strings.HasSuffix(u, " BC") {
		bc, t = true, strings.TrimSpace(t[:len(t)-3])
	} else if strings.HasSuffix(u, " AD") {
		t = strings.TrimSpace(t[:len(t)-3])
	}
	num := func(min, max int) (int, bool) {
		i := 0
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		if i < min || i > max {
			return 0, false
		}
		n, _ := strconv.Atoi(t[:i])
		t = t[i:]
		return n, true
	}
	sep := func(c byte) bool {
		if t != "" && t[0] == c {
			t = t[1:]
			return true
		}
		return false
	}
	year, ok1 := num(1, 7)
	ok2 := sep('-')
	month, ok3 := num(1, 2)
	ok4 := sep('-')
	day, ok5 := num(1, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || year == 0 || month < 1 || month > 12 {
		return time.Time{}, false, bad
	}
	if bc {
		year = 1 - year
	}
	if day < 1 || day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return time.Time{}, false, bad
	}
	var hour, minute, sec, nsec int
	loc := time.UTC
	zoned := false
	if t != "" && (t[0] == ' ' || t[0] == 'T' || t[0] == 't') {
		t = strings.TrimLeft(t[1:], " ")
		var okH, okM bool
		hour, okH = num(1, 2)
		if !okH || !sep(':') {
			return time.Time{}, false, bad
		}
		if minute, okM = num(2, 2); !okM {
			return time.Time{}, false, bad
		}
		if sep(':') {
			var okS bool
			if sec, okS = num(2, 2); !okS {
				return time.Time{}, false, bad
			}
			if sep('.') {
				i := 0
				for i < len(t) && t[i] >= '0' && t[i] <= '9' {
					i++
				}
				if i == 0 {
					return time.Time{}, false, bad
				}
				frac := t[:i] + "000000000"
				nsec, _ = strconv.Atoi(frac[:9])
				t = t[i:]
			}
		}
		if hour > 24 || minute > 59 || sec > 60 || (hour == 24 && (minute != 0 || sec != 0 || nsec != 0)) {
			return time.Time{}, false, bad
		}
		z := strings.TrimSpace(t)
		t = ""
		if z != "" {
			l, err := parseZone(z)
			if err != nil {
				return time.Time{}, false, bad
			}
			loc, zoned = l, true
		}
	}
	if t != "" {
		return time.Time{}, false, bad
	}
	if dateOnly {
		return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), false, nil
	}
	tm := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	// PostgreSQL keeps microseconds, rounding the rest.
	return tm.Round(time.Microsecond), zoned, nil
}

// parseZone reads a zone suffix: Z, an offset (+HH, +HH:MM, +HHMM, +HH:MM:SS) or a name.
func parseZone(z string) (*time.Location, error) {
	if z == "Z" || z == "z" {
		return time.UTC, nil
	}
	if z[0] == '+' || z[0] == '-' {
		sign := 1
		if z[0] == '-' {
			sign = -1
		}
		parts := strings.Split(z[1:], ":")
		if len(parts) == 1 && len(parts[0]) == 4 {
			parts = []string{parts[0][:2], parts[0][2:]}
		}
		if len(parts) > 3 {
			return nil, fmt.Errorf("bad offset")
		}
		off := 0
		for i, p := range parts {
			if len(p) < 1 || len(p) > 2 {
				return nil, fmt.Errorf("bad offset")
			}
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || (i > 0 && n > 59) || (i == 0 && n > 15) {
				return nil, fmt.Errorf("bad offset")
			}
			off = off*60 + n
		}
		for range 3 - len(parts) {
			off *= 60
		}
		return time.FixedZone("", sign*off), nil
	}
	return loadLocation(z)
}

// parseBytea reads bytea's hex format (\x...) or its escape format (\\ and \ooo).
func parseBytea(s string) (any, error) {
	if strings.HasPrefix(s, `\x`) {
		h := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s[2:])
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, invalidInput(pgtype.ByteaOID, s)
		}
		return b, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b = append(b, s[i])
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			b = append(b, '\\')
			i++
		case i+3 < len(s) && isOctal(s[i+1]) && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]):
			b = append(b, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 3
		default:
			return nil, invalidInput(pgtype.ByteaOID, s)
		}
	}
	return b, nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// parseUUID reads a UUID with or without hyphens and braces, and returns its canonical
// form.
func parseUUID(s string) (any, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
		t = t[1 : len(t)-1]
	}
	b, err := hex.DecodeString(strings.ReplaceAll(t, "-", ""))
	if err != nil || len(b) != 16 || strings.HasPrefix(t, "-") || strings.HasSuffix(t, "-") || strings.Contains(t, "--") {
		return nil, invalidInput(pgtype.UUIDOID, s)
	}
	return formatUUID(b), nil
}

func formatUUID(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
