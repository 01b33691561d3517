package postgres

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/cubit-dev/cubit/internal/warehouse"
)

// normalize maps a value as pgx decodes it to the warehouse value set: nil, bool, int64,
// float64, string, time.Time or warehouse.Numeric.
func normalize(v any) (any, error) {
	switch v := v.(type) {
	case nil, bool, int64, float64, string:
		return v, nil
	case int16:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case uint32: // oid, xid
		return int64(v), nil
	case float32:
		// Through the shortest decimal text, so that a real 0.1 reads as 0.1, not 0.10000000149.
		return strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', -1, 32), 64)
	case pgtype.Numeric:
		if !v.Valid {
			return nil, nil
		}
		// pgx keeps the column's scale (dscale), so its text is exact: 12.50 stays "12.50".
		text, err := v.Value()
		if err != nil {
			return nil, err
		}
		return warehouse.Numeric(text.(string)), nil
	case time.Time: // timestamp, timestamptz, date
		return v.UTC(), nil
	case pgtype.InfinityModifier: // ±infinity dates and timestamps
		return v.String(), nil
	case [16]byte: // uuid
		h := hex.EncodeToString(v[:])
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
	case []byte: // bytea
		return string(v), nil
	case pgtype.Time:
		if !v.Valid {
			return nil, nil
		}
		return timeOfDay(v.Microseconds), nil
	case pgtype.Interval:
		if !v.Valid {
			return nil, nil
		}
		return intervalText(v), nil
	case fmt.Stringer: // inet, cidr, macaddr and other text-like types
		return v.String(), nil
	}
	// json, jsonb, arrays, composites: their JSON text, with nested values normalised first.
	j, err := json.Marshal(jsonable(v))
	if err != nil {
		return nil, fmt.Errorf("cannot represent %T value: %w", v, err)
	}
	return string(j), nil
}

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
	}
	n, err := normalize(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if num, ok := n.(warehouse.Numeric); ok {
		return json.Number(num)
	}
	if f, ok := n.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return n
}

func timeOfDay(micros int64) string {
	s := fmt.Sprintf("%02d:%02d:%02d", micros/3600e6, micros/60e6%60, micros/1e6%60)
	if frac := micros % 1e6; frac != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
	}
	return s
}

// intervalText renders an interval as PostgreSQL prints it (IntervalStyle postgres):
// "1 year 2 mons 3 days 04:05:06".
func intervalText(iv pgtype.Interval) string {
	var parts []string
	unit := func(n int64, one, many string) {
		switch {
		case n == 0:
		case n == 1 || n == -1:
			parts = append(parts, fmt.Sprintf("%d %s", n, one))
		default:
			parts = append(parts, fmt.Sprintf("%d %s", n, many))
		}
	}
	unit(int64(iv.Months/12), "year", "years")
	unit(int64(iv.Months%12), "mon", "mons")
	unit(int64(iv.Days), "day", "days")
	if iv.Microseconds != 0 || len(parts) == 0 {
		m, sign := iv.Microseconds, ""
		if m < 0 {
			m, sign = -m, "-"
		}
		parts = append(parts, sign+timeOfDay(m))
	}
	return strings.Join(parts, " ")
}
