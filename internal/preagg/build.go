package preagg

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/plan"
	"github.com/cubit-dev/cubit/internal/query"
	"github.com/cubit-dev/cubit/internal/sqlgen"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

// partitionColumn holds each row's partition, so a refresh can copy the partitions it does
// not rebuild.
const partitionColumn = "__partition"

// partition is one slice of a rollup's build: a date range on its time dimension, the rows
// without a time (null), or everything (neither).
type partition struct {
	id       string
	from, to time.Time // local wall clocks, [from, to)
	null     bool
}

// reader is where a rollup's build reads its rows: the source, or the copy an original_sql
// pre-aggregation holds in the store, with the model and dialect that compile for it.
type reader struct {
	model   *model.Model
	dialect dialect.Dialect
	wh      warehouse.Warehouse
}

// reader returns where r builds from in tz: the source, unless r uses its cube's
// original_sql copy (built first if it is not yet). The copy is read with the model's member
// SQL, written for the source, so it is used only when the source speaks the store's
// dialect; otherwise r builds from the source, whose rows the copy holds anyway.
func (s *Set) reader(ctx context.Context, r *Rollup, tz string) (reader, error) {
	src := reader{model: s.model, dialect: s.dialect, wh: s.source}
	if r.Original == nil || s.dialect.Name() != storeDialect.Name() || r.joins() {
		// The copy holds the cube alone: a rollup with joined dimensions reads the source.
		return src, nil
	}
	orig := s.store.Current(s.key(r.Original, tz))
	if orig == nil {
		if err := s.refresh(ctx, r.Original, tz, false); err != nil {
			return src, err
		}
		if orig = s.store.Current(s.key(r.Original, tz)); orig == nil {
			return src, errs.Wrap(errs.KindInternal, nil, "%s was not built", r.Original.ID())
		}
	}
	return reader{model: overTable(r.Cube, orig.Name), dialect: storeDialect, wh: s.store.wh}, nil
}

// overTable is a model of cube c alone, reading table instead of its SQL: copies of its
// members (model.New points members at their cube), without its joins, which a rollup
// reading the copy never uses (see reader).
func overTable(c *model.Cube, table string) *model.Model {
	cc := *c
	cc.SQL, cc.SQLTable, cc.Joins, cc.PreAggregations = nil, table, nil, nil
	cc.Measures = copies(c.Measures)
	cc.Dimensions = copies(c.Dimensions)
	cc.Segments = copies(c.Segments)
	return model.New([]*model.Cube{&cc})
}

func copies[T any](list []*T) []*T {
	out := make([]*T, len(list))
	for i, x := range list {
		y := *x
		out[i] = &y
	}
	return out
}

// compile takes a query through the compiler stages for the reader, without a row limit:
// the rows of a rollup are all its groups.
func (s *Set) compile(rd reader, q *query.Query) (*plan.Plan, *sqlgen.Statement, error) {
	n, err := query.Normalize(q, query.Options{Now: s.opt.Now(), DefaultTimezone: "UTC", Locations: s.opt.Locations})
	if err != nil {
		return nil, nil, err
	}
	n.Limit = 0
	r, err := query.Resolve(n, rd.model)
	if err != nil {
		return nil, nil, err
	}
	p, err := plan.Build(r, plan.Options{})
	if err != nil {
		return nil, nil, err
	}
	stmt, err := sqlgen.Render(p, rd.dialect)
	return p, stmt, err
}

// buildQuery is the grouped query whose rows a rollup stores for one partition: its
// measures at its dimensions and time bucket, within its segments, in zone tz.
func buildQuery(r *Rollup, tz string, part partition) *query.Query {
	q := &query.Query{Timezone: tz, Order: query.Order{Set: true}}
	name := func(member string) string { return r.Cube.Name + "." + member }
	for _, m := range r.Measures {
		q.Measures = append(q.Measures, name(m.Name))
	}
	for _, d := range r.Dimensions {
		q.Dimensions = append(q.Dimensions, d.Cube.Name+"."+d.Name) // maybe a joined cube's
	}
	for _, sg := range r.Segments {
		q.Segments = append(q.Segments, name(sg.Name))
	}
	if r.Time != nil {
		td := query.TimeDimension{Dimension: name(r.Time.Name), Granularity: r.Granularity}
		switch {
		case part.null:
			// The bucket of a null time is null: the columns stay those of other partitions.
			q.Filters = append(q.Filters, query.Filter{Member: name(r.Time.Name), Operator: query.OpNotSet})
		case !part.from.IsZero():
			td.DateRange = query.DateRange{Bounds: []string{part.from.Format(wallLayout),
				part.to.Add(-time.Millisecond).Format(wallLayout)}}
		}
		q.TimeDimensions = []query.TimeDimension{td}
	}
	return q
}

// tableColumns are the columns of a rollup table, in the order of the build query's output
// (dimensions, time bucket, measures), then the partition; types come from the first
// non-null value seen, else from the member's type.
// An incremental build passes the columns of the table it copies from (prev): a column whose
// rebuilt values are all null keeps its type there.
func tableColumns(p *plan.Plan, rows [][]any, prev []column) []column {
	cols := make([]column, 0, len(p.Columns)+1)
	for i, c := range p.Columns {
		typ := ""
		for _, row := range rows {
			if t := valueType(row[i]); t != "" && (typ == "" || wider(t, typ)) {
				typ = t
			}
		}
		if typ == "" && len(prev) == len(p.Columns)+1 {
			typ = prev[i].typ
		}
		if typ == "" {
			typ = memberType(c)
		}
		cols = append(cols, column{name: c.Alias, typ: typ})
	}
	return append(cols, column{name: partitionColumn, typ: "VARCHAR"})
}

// valueType is the DuckDB type that holds a warehouse value.
func valueType(v any) string {
	switch x := v.(type) {
	case bool:
		return "BOOLEAN"
	case int64:
		return "BIGINT"
	case float64:
		return "DOUBLE"
	case string:
		return "VARCHAR"
	case time.Time:
		return "TIMESTAMP"
	case warehouse.Numeric:
		_, frac, _ := strings.Cut(string(x), ".")
		return "DECIMAL(38," + strconv.Itoa(min(len(frac), 18)) + ")"
	}
	return ""
}

// wider reports whether type a must replace b to hold the values of both (a larger decimal
// scale).
func wider(a, b string) bool {
	if strings.HasPrefix(a, "DECIMAL") && strings.HasPrefix(b, "DECIMAL") {
		return len(a) > len(b) || len(a) == len(b) && a > b
	}
	return false
}

// memberType is the column type of a member whose values were all null.
func memberType(c *plan.Column) string {
	switch {
	case c.Kind == plan.ColTime:
		return "TIMESTAMP"
	case c.Dimension != nil:
		switch c.Dimension.Dimension.Type {
		case model.DimNumber:
			return "DOUBLE"
		case model.DimTime:
			return "TIMESTAMP"
		case model.DimBoolean:
			return "BOOLEAN"
		}
		return "VARCHAR"
	case c.Measure != nil:
		switch c.Measure.Measure.Type {
		case model.MeasureCount, model.MeasureCountDistinct, model.MeasureCountDistinctApprox:
			return "BIGINT"
		case model.MeasureString:
			return "VARCHAR"
		case model.MeasureTime:
			return "TIMESTAMP"
		case model.MeasureBoolean:
			return "BOOLEAN"
		}
	}
	return "DOUBLE"
}

// Build builds rollup r in zone tz now, whatever its refresh key says, and makes the new
// table serve it. Queries keep running on the previous table (or on the source before the
// first build) meanwhile.
func (s *Set) Build(ctx context.Context, r *Rollup, tz string) (*Table, error) {
	if r.Unusable != "" {
		return nil, errs.Invalid("pre-aggregation %s cannot be built: %s", r.ID(), r.Unusable)
	}
	refresh, err := s.refreshValue(ctx, r)
	if err != nil {
		return nil, err
	}
	return s.build(ctx, r, tz, refresh, nil)
}

// errRetype says an incremental build cannot copy the kept partitions: the rebuilt rows
// need other column types than the table they would be copied from has.
var errRetype = errs.Wrap(errs.KindInternal, nil, "rebuilt partitions change the column types")

// build builds r in tz into a new table and swaps it in. With prev, the table serving r now,
// the build is incremental (refresh_key.incremental): it copies from prev the partitions
// that stay (see keep) and runs on the source only the others.
func (s *Set) build(ctx context.Context, r *Rollup, tz string, refresh string, prev *Table) (*Table, error) {
	started := s.opt.Now()
	loc, err := s.opt.Locations(tz)
	if err != nil {
		return nil, errs.Invalid("unknown time zone %s", tz)
	}
	if err := s.store.init(ctx); err != nil {
		return nil, err
	}
	if r.Def.Type == "original_sql" {
		return s.buildOriginal(ctx, r, tz, refresh, started)
	}
	rd, err := s.reader(ctx, r, tz)
	if err != nil {
		return nil, errs.Wrap(errs.KindOf(err), err, "pre-aggregation %s: its original_sql", r.ID())
	}
	parts, cov, err := s.partitions(ctx, rd, r, tz, loc)
	if err != nil {
		return nil, errs.Wrap(errs.KindOf(err), err, "pre-aggregation %s: build range", r.ID())
	}
	key := s.key(r, tz)
	t := &Table{Name: s.store.newName(r.Cube.Name, r.Def.Name, key), Coverage: cov, RefreshKey: refresh, BuiltAt: started}
	kept := keep(r, parts, prev, wall(started, loc))
	var prevCols []column
	if len(kept) > 0 {
		prevCols = prev.columns
	}
	var cols []column
	created := false
	for _, part := range parts {
		if kept[part.id] {
			t.Partitions = append(t.Partitions, part.id)
			continue
		}
		q := buildQuery(r, tz, part)
		if q == nil {
			continue
		}
		p, stmt, err := s.compile(rd, q)
		if err != nil {
			return nil, errs.Wrap(errs.KindOf(err), err, "pre-aggregation %s: compiling its query", r.ID())
		}
		rs, err := rd.wh.Query(ctx, stmt.SQL, stmt.Args)
		if err != nil {
			return nil, errs.Wrap(errs.KindOf(err), err, "pre-aggregation %s: partition %s", r.ID(), part.id)
		}
		_, data, err := warehouse.Collect(rs)
		if err != nil {
			return nil, errs.Wrap(errs.KindOf(err), err, "pre-aggregation %s: partition %s", r.ID(), part.id)
		}
		rows := make([][]any, len(data))
		for i, row := range data {
			out := make([]any, 0, len(row)+1)
			for j, c := range p.Columns {
				v := row[j]
				if c.Kind == plan.ColTime || c.Dimension != nil && c.Dimension.Dimension.Type == model.DimTime {
					v = instant(v, loc) // the build's zone shows in time values: undo it
				}
				out = append(out, v)
			}
			rows[i] = append(out, part.id)
		}
		if !created && (len(rows) > 0 || part.id == parts[len(parts)-1].id) {
			cols = tableColumns(p, rows, prevCols)
			if prevCols != nil && !slices.Equal(cols, prevCols) {
				return nil, errRetype
			}
			if err := s.store.createTable(ctx, t.Name, cols); err != nil {
				return nil, errs.Wrap(errs.KindOf(err), err, "pre-aggregation %s: creating %s", r.ID(), t.Name)
			}
			created = true
		}
		if len(rows) > 0 {
			if err := s.store.insert(ctx, t.Name, cols, rows); err != nil {
				return nil, errs.Wrap(errs.KindOf(err), err, "pre-aggregation %s: loading partition %s", r.ID(), part.id)
			}
		}
		t.Partitions = append(t.Partitions, part.id)
		t.Rows += int64(len(rows))
	}
	if !created && prevCols != nil {
		// Every partition is kept (a build range that ended before the update window).
		cols = prevCols
		if err := s.store.createTable(ctx, t.Name, cols); err != nil {
			return nil, errs.Wrap(errs.KindOf(err), err, "pre-aggregation %s: creating %s", r.ID(), t.Name)
		}
		created = true
	}
	if !created {
		return nil, errs.Wrap(errs.KindInternal, nil, "pre-aggregation %s has no partition to build", r.ID())
	}
	t.columns = cols
	if len(kept) > 0 {
		n, err := s.store.copyPartitions(ctx, prev.Name, t.Name, kept)
		if err != nil {
			return nil, errs.Wrap(errs.KindOf(err), err, "pre-aggregation %s: copying the kept partitions", r.ID())
		}
		t.Rows += n
		t.Kept = len(kept)
	}
	for i, ix := range r.Def.Indexes {
		var names []string
		for _, ref := range ix.Columns {
			names = append(names, quote(plan.Alias(ref)))
		}
		name := quote(fmt.Sprintf("%s_ix%d", t.Name[strings.LastIndexByte(t.Name, '.')+1:], i))
		if err := s.store.exec(ctx, "CREATE INDEX "+name+" ON "+t.Name+" ("+strings.Join(names, ", ")+")"); err != nil {
			return nil, errs.Wrap(errs.KindOf(err), err, "pre-aggregation %s: index %s", r.ID(), ix.Name)
		}
	}
	s.store.swap(ctx, key, t)
	return t, nil
}

// keep lists the partitions an incremental build copies from prev instead of running on the
// source, as Cube's refresh_key.incremental does: those prev holds whose range ends before
// the update window [now - update_window, now] (now the wall clock of the build's zone;
// without update_window, the window is now alone, so the partition holding now and later
// ones are rebuilt). Partitions prev lacks (new at the end of the build range) are built;
// the rows without a time are always rebuilt, since a row can gain or lose its time at any
// date. Nil when the build is not incremental.
func keep(r *Rollup, parts []partition, prev *Table, now time.Time) map[string]bool {
	k := r.Def.RefreshKey
	if prev == nil || prev.columns == nil || k == nil || !k.Incremental {
		return nil
	}
	start, ok := back(now, k.UpdateWindow)
	if !ok {
		return nil
	}
	had := map[string]bool{}
	for _, id := range prev.Partitions {
		had[id] = true
	}
	out := map[string]bool{}
	for _, p := range parts {
		if had[p.id] && !p.null && !p.from.IsZero() && !p.to.After(start) {
			out[p.id] = true
		}
	}
	return out
}

// back is wall clock t minus an interval like "7 day" or "1 month 2 days": days and longer
// units count on the calendar (AddDate), shorter ones as durations; "" is t itself.
func back(t time.Time, interval string) (time.Time, bool) {
	f := strings.Fields(interval)
	if len(f)%2 != 0 {
		return t, false
	}
	for i := 0; i < len(f); i += 2 {
		n, err := strconv.Atoi(f[i])
		if err != nil || n < 0 {
			return t, false
		}
		switch strings.TrimSuffix(strings.ToLower(f[i+1]), "s") {
		case "second":
			t = t.Add(-time.Duration(n) * time.Second)
		case "minute":
			t = t.Add(-time.Duration(n) * time.Minute)
		case "hour":
			t = t.Add(-time.Duration(n) * time.Hour)
		case "day":
			t = t.AddDate(0, 0, -n)
		case "week":
			t = t.AddDate(0, 0, -7*n)
		case "month":
			t = t.AddDate(0, -n, 0)
		case "quarter":
			t = t.AddDate(0, -3*n, 0)
		case "year":
			t = t.AddDate(-n, 0, 0)
		default:
			return t, false
		}
	}
	return t, true
}

// buildOriginal copies the rows of an original_sql pre-aggregation's cube SQL from the source
// into a new table of the store, with the source's column names, and swaps it in.
func (s *Set) buildOriginal(ctx context.Context, r *Rollup, tz, refresh string, started time.Time) (*Table, error) {
	rs, err := s.source.Query(ctx, originalSQL(r.Cube), nil)
	if err != nil {
		return nil, errs.Wrap(errs.KindOf(err), err, "pre-aggregation %s: reading the cube's sql", r.ID())
	}
	names, rows, err := warehouse.Collect(rs)
	if err != nil {
		return nil, errs.Wrap(errs.KindOf(err), err, "pre-aggregation %s: reading the cube's sql", r.ID())
	}
	cols := make([]column, len(names))
	for i, name := range names {
		typ := ""
		for _, row := range rows {
			if t := valueType(row[i]); t != "" && (typ == "" || wider(t, typ)) {
				typ = t
			}
		}
		if typ == "" {
			typ = "VARCHAR" // only nulls: any type holds them
		}
		cols[i] = column{name: name, typ: typ}
	}
	key := s.key(r, tz)
	t := &Table{Name: s.store.newName(r.Cube.Name, r.Def.Name, key), Coverage: Coverage{Timezone: tz},
		RefreshKey: refresh, BuiltAt: started, Partitions: []string{""}, Rows: int64(len(rows)), columns: cols}
	if err := s.store.createTable(ctx, t.Name, cols); err != nil {
		return nil, errs.Wrap(errs.KindOf(err), err, "pre-aggregation %s: creating %s", r.ID(), t.Name)
	}
	if len(rows) > 0 {
		if err := s.store.insert(ctx, t.Name, cols, rows); err != nil {
			return nil, errs.Wrap(errs.KindOf(err), err, "pre-aggregation %s: loading its rows", r.ID())
		}
	}
	s.store.swap(ctx, key, t)
	return t, nil
}

// instant turns a time bucket as the source returns it (the local wall clock of zone loc,
// read as UTC) into the instant it starts at, which is what the rollup table stores: the
// serving SQL converts it back to the query's zone, as it does a raw column.
func instant(v any, loc *time.Location) any {
	t, ok := v.(time.Time)
	if !ok {
		return v
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc).UTC()
}

// partitions lists the partitions of a build and what they cover. A rollup without a
// partition_granularity is one partition, bounded by its build range if it has one. A
// partitioned rollup is one partition per period of the build range (by default from the
// first to the last time in the source), plus, without a build range, the rows whose time
// is null.
func (s *Set) partitions(ctx context.Context, rd reader, r *Rollup, tz string, loc *time.Location) ([]partition, Coverage, error) {
	cov := Coverage{Timezone: tz}
	explicit := r.Def.BuildRangeStart != nil || r.Def.BuildRangeEnd != nil
	pg := r.Def.PartitionGranularity
	if r.Time == nil || (pg == "" && !explicit) {
		return []partition{{id: ""}}, cov, nil
	}
	var start, end time.Time // local wall clocks, inclusive
	if explicit {
		var err error
		if start, err = s.rangeBound(ctx, r, r.Def.BuildRangeStart, loc, false); err != nil {
			return nil, cov, err
		}
		if end, err = s.rangeBound(ctx, r, r.Def.BuildRangeEnd, loc, true); err != nil {
			return nil, cov, err
		}
	} else {
		var ok bool
		var err error
		if start, end, ok, err = s.dataRange(ctx, rd, r, tz); err != nil {
			return nil, cov, err
		} else if !ok {
			return []partition{{id: ""}}, cov, nil
		}
	}
	if end.Before(start) {
		return nil, cov, errs.Invalid("build range ends before it starts")
	}
	var parts []partition
	if pg == "" {
		to := end.Add(time.Millisecond)
		parts = []partition{{id: start.Format(wallLayout), from: start, to: to}}
	} else {
		for p := Trunc(start, pg); !p.After(end); p = Next(p, pg) {
			parts = append(parts, partition{id: p.Format(wallLayout), from: p, to: Next(p, pg)})
		}
	}
	if explicit {
		cov.From = local(parts[0].from, loc)
		cov.To = local(parts[len(parts)-1].to, loc)
	} else {
		parts = append(parts, partition{id: "null", null: true})
	}
	return parts, cov, nil
}

// local is the instant of the wall clock w in loc.
func local(w time.Time, loc *time.Location) time.Time {
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), loc).UTC()
}

// rangeBound evaluates build_range_start or build_range_end on the source: the first value
// of its result, an instant, as a wall clock of loc. A missing bound is now.
func (s *Set) rangeBound(ctx context.Context, r *Rollup, t *model.Template, loc *time.Location, end bool) (time.Time, error) {
	if t == nil {
		return wall(s.opt.Now(), loc), nil
	}
	var sb strings.Builder
	for _, p := range t.Parts {
		if p.Kind != model.PartText {
			return time.Time{}, errs.Invalid("build range sql of %s may not reference members", r.ID())
		}
		sb.WriteString(p.Text)
	}
	rows, err := s.source.Query(ctx, sb.String(), nil)
	if err != nil {
		return time.Time{}, err
	}
	_, data, err := warehouse.Collect(rows)
	if err != nil {
		return time.Time{}, err
	}
	if len(data) == 0 || len(data[0]) == 0 {
		return time.Time{}, errs.Invalid("build range sql of %s returned no value", r.ID())
	}
	switch v := data[0][0].(type) {
	case time.Time:
		return wall(v, loc), nil
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, v); err == nil {
				return wall(t, loc), nil
			}
		}
	}
	return time.Time{}, errs.Invalid("build range sql of %s returned %v, not a time", r.ID(), data[0][0])
}

// wall is the wall clock of instant t in loc, as a UTC time.
func wall(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// dataRange is the first and last bucket of the rollup's time dimension at its partition
// granularity, as local wall clocks, read through the compiler like any query; ok is false
// when the time dimension has no value.
func (s *Set) dataRange(ctx context.Context, rd reader, r *Rollup, tz string) (first, last time.Time, ok bool, err error) {
	name := r.Cube.Name + "." + r.Time.Name
	one := 1
	bound := func(desc bool) (time.Time, bool, error) {
		q := &query.Query{Timezone: tz, Limit: &one,
			TimeDimensions: []query.TimeDimension{{Dimension: name, Granularity: r.Def.PartitionGranularity}},
			Filters:        []query.Filter{{Member: name, Operator: query.OpSet}},
			Order:          query.Order{Set: true, Items: []query.OrderItem{{ID: name, Desc: desc}}}}
		n, err := query.Normalize(q, query.Options{Now: s.opt.Now(), Locations: s.opt.Locations})
		if err != nil {
			return time.Time{}, false, err
		}
		res, err := query.Resolve(n, rd.model)
		if err != nil {
			return time.Time{}, false, err
		}
		p, err := plan.Build(res, plan.Options{})
		if err != nil {
			return time.Time{}, false, err
		}
		stmt, err := sqlgen.Render(p, rd.dialect)
		if err != nil {
			return time.Time{}, false, err
		}
		rows, err := rd.wh.Query(ctx, stmt.SQL, stmt.Args)
		if err != nil {
			return time.Time{}, false, err
		}
		_, data, err := warehouse.Collect(rows)
		if err != nil || len(data) == 0 {
			return time.Time{}, false, err
		}
		t, isTime := data[0][0].(time.Time)
		return t, isTime, nil
	}
	if first, ok, err = bound(false); err != nil || !ok {
		return first, last, ok, err
	}
	last, ok, err = bound(true)
	return first, last, ok, err
}
