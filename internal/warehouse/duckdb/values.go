package duckdb

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/cubit-dev/cubit/internal/warehouse"
)

// normalize maps a value as DuckDB's driver returns it to the warehouse value set: nil,
// bool, int64, float64, string, time.Time or warehouse.Numeric. typeName is the column's
// DuckDB type name, which tells apart values that share a Go type (UUID and BLOB are both
// []byte; TIME and TIMESTAMP are both time.Time).
func normalize(v any, typeName string) (any, error) {
	switch v := v.(type) {
	case nil, bool, int64, float64, string:
		return v, nil
	case int8:
		return int64(v), nil
	case int16:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case int:
		return int64(v), nil
	case uint8:
		return int64(v), nil
	case uint16:
		return int64(v), nil
	case uint32:
		return int64(v), nil
	case uint64:
		if v > math.MaxInt64 {
			return warehouse.Numeric(strconv.FormatUint(v, 10)), nil
		}
		return int64(v), nil
	case float32:
		// Through the shortest decimal text, so that a REAL 0.1 reads as 0.1, not 0.10000000149.
		return strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', -1, 32), 64)
	case *big.Int: // HUGEINT, UHUGEINT, BIGNUM
		return warehouse.Numeric(v.String()), nil
	case duckdb.Decimal:
		return warehouse.Numeric(decimalText(v.Value, int(v.Scale))), nil
	case time.Time:
		if typeName == "TIME" || typeName == "TIMETZ" {
			return timeOfDay(v), nil
		}
		return v.UTC(), nil
	case []byte:
		if typeName == "UUID" && len(v) == 16 {
			return uuidText(v), nil
		}
		return string(v), nil
	case duckdb.UUID:
		return uuidText(v[:]), nil
	case duckdb.Interval:
		return intervalText(v), nil
	case duckdb.Bit:
		return v.String(), nil
	}
	// Lists, structs, maps, unions: their JSON text, with nested values normalised first.
	j, err := json.Marshal(jsonable(v))
	if err != nil {
		return nil, fmt.Errorf("cannot represent %s value %T: %w", typeName, v, err)
	}
	return string(j), nil
}

// jsonable prepares a nested DuckDB value for encoding/json.
func jsonable(v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = jsonable(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = jsonable(e)
		}
		return out
	case duckdb.Map:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[fmt.Sprint(jsonable(k))] = jsonable(e)
		}
		return out
	case duckdb.Union:
		return jsonable(v.Value)
	}
	n, err := normalize(v, "")
	if err != nil {
		return fmt.Sprint(v)
	}
	if num, ok := n.(warehouse.Numeric); ok {
		return json.Number(num)
	}
	return n
}

// decimalText renders an unscaled integer with scale digits after the point, keeping
// trailing zeros: (1250, 2) is "12.50".
func decimalText(unscaled *big.Int, scale int) string {
	if unscaled == nil {
		return "0"
	}
	digits := new(big.Int).Abs(unscaled).String()
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if unscaled.Sign() < 0 {
		return "-" + digits
	}
	return digits
}

func uuidText(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// timeOfDay renders a TIME value as DuckDB prints it: 15:04:05 with microseconds if any.
func timeOfDay(t time.Time) string {
	s := t.Format("15:04:05.999999")
	if _, off := t.Zone(); off != 0 {
		s += t.Format("-07:00")
	}
	return s
}

// intervalText renders an INTERVAL as DuckDB prints it: "1 year 2 months 3 days 04:05:06".
func intervalText(iv duckdb.Interval) string {
	var parts []string
	plural := func(n int64, unit string) {
		if n == 0 {
			return
		}
		if n == 1 || n == -1 {
			parts = append(parts, fmt.Sprintf("%d %s", n, unit))
		} else {
			parts = append(parts, fmt.Sprintf("%d %ss", n, unit))
		}
	}
	plural(int64(iv.Months/12), "year")
	plural(int64(iv.Months%12), "month")
	plural(int64(iv.Days), "day")
	if iv.Micros != 0 || len(parts) == 0 {
		m := iv.Micros
		sign := ""
		if m < 0 {
			sign, m = "-", -m
		}
		clock := fmt.Sprintf("%s%02d:%02d:%02d", sign, m/3600e6, m/60e6%60, m/1e6%60)
		if frac := m % 1e6; frac != 0 {
			clock += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
		}
		parts = append(parts, clock)
	}
	return strings.Join(parts, " ")
}
