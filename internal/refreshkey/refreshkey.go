// Package refreshkey reads Cube's refresh keys (spec D.2) for the two places that evaluate
// them: the result cache (internal/engine, a cube's key) and the rollups (internal/preagg, a
// pre-aggregation's key). `every` is an interval ("1 hour", "2 hours 30 minutes") or a cron
// expression in the key's time zone; a key's value without sql is the time bucket a moment
// falls in; with sql it is the SQL's result, read again when the schedule says.
//
// It imports the model (for the template of the sql) and the warehouse interface, nothing of
// the engine or the APIs.
package refreshkey

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

// Every is a refresh key's schedule: an interval, or a cron schedule read in Loc.
type Every struct {
	Interval time.Duration
	Cron     cron.Schedule
	Loc      *time.Location
}

// cronParser reads Cube's cron expressions: five fields, or six with seconds first.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom |
	cron.Month | cron.Dow | cron.Descriptor)

// Parse reads every as an interval, else as a cron expression read in loc (nil is UTC). ok
// is false when it is neither (a cron feature the cron library lacks, such as L or #, that
// model validation let through).
func Parse(every string, loc *time.Location) (e Every, ok bool) {
	if d, ok := ParseInterval(every); ok {
		return Every{Interval: d}, true
	}
	sched, err := cronParser.Parse(every)
	if err != nil {
		return Every{}, false
	}
	if loc == nil {
		loc = time.UTC
	}
	return Every{Cron: sched, Loc: loc}, true
}

// ParseInterval reads an interval like "1 hour" or "2 hours 30 minutes". Cube allows second
// to week; the model also admits month (30 days), quarter (91 days) and year (365 days).
func ParseInterval(s string) (time.Duration, bool) {
	f := strings.Fields(s)
	if len(f) == 0 || len(f)%2 != 0 {
		return 0, false
	}
	var total time.Duration
	for i := 0; i < len(f); i += 2 {
		n, err := strconv.Atoi(f[i])
		unit, ok := units[strings.TrimSuffix(strings.ToLower(f[i+1]), "s")]
		if err != nil || n < 0 || !ok {
			return 0, false
		}
		total += time.Duration(n) * unit
	}
	return total, total > 0
}

var units = map[string]time.Duration{"second": time.Second, "minute": time.Minute, "hour": time.Hour,
	"day": 24 * time.Hour, "week": 7 * 24 * time.Hour, "month": 30 * 24 * time.Hour,
	"quarter": 91 * 24 * time.Hour, "year": 365 * 24 * time.Hour}

// Bucket is the value at now of a key without sql: the index of the interval since the Unix
// epoch (as Cube's FLOOR(EXTRACT(EPOCH FROM NOW()) / secs)), or the next cron tick.
func (e Every) Bucket(now time.Time) string {
	if e.Cron != nil {
		return "next " + e.Cron.Next(now.In(e.Loc)).UTC().Format(time.RFC3339)
	}
	return strconv.FormatInt(now.UnixNano()/int64(e.Interval), 10)
}

// Next is when a value read at at must be read again: the next cron tick, or at plus the
// interval.
func (e Every) Next(at time.Time) time.Time {
	if e.Cron != nil {
		return e.Cron.Next(at.In(e.Loc))
	}
	return at.Add(e.Interval)
}

// IsZero reports whether e is no schedule at all.
func (e Every) IsZero() bool { return e.Cron == nil && e.Interval == 0 }

// SQL is the text of a refresh key's sql. Validation admits only literal SQL there: it runs
// as written, outside any query and security context.
func SQL(t *model.Template) string {
	var sb strings.Builder
	for _, p := range t.Parts {
		sb.WriteString(p.Text)
	}
	return sb.String()
}

// Value runs a refresh key's sql on w; the key's value is the whole result.
func Value(ctx context.Context, w warehouse.Warehouse, sql string) (string, error) {
	rows, err := w.Query(ctx, sql, nil)
	if err != nil {
		return "", err
	}
	_, data, err := warehouse.Collect(rows)
	if err != nil {
		return "", err
	}
	return fmt.Sprint(data), nil
}
