package engine

import (
	"context"
	"time"

	"github.com/cubit-dev/cubit/internal/preagg"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

// PreAggregations returns the engine's rollups over the rollup store, or nil when the
// engine has no store. The caller that owns the engine runs their background refresh
// (Run, until the engine is replaced) and exposes their jobs (Jobs, Trigger).
func (e *Engine) PreAggregations() *preagg.Set { return e.rollups }

// useRollup points a compiled query at the first built rollup that answers it with the
// source's rows. A rewrite that fails is a Cubit bug; the query then reads the source,
// which is always right.
func (e *Engine) useRollup(c *Compiled) {
	if e.rollups == nil {
		return
	}
	use, err := e.rollups.Rewrite(c.Resolved)
	if err != nil || use == nil {
		return
	}
	c.Rollup = use
	c.Statement = use.Statement
}

// runOn executes a statement on another database than the source (the rollup store).
func (e *Engine) runOn(ctx context.Context, w warehouse.Warehouse, sql string, args []any) ([][]any, error) {
	defer e.cfg.Metrics.observe("execute", time.Now())
	rows, err := w.Query(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	_, data, err := warehouse.Collect(rows)
	return data, err
}

// UsedPreAggregation describes the rollup table a result was read from, under its table
// name in usedPreAggregations (spec C.1).
type UsedPreAggregation struct {
	// PreAggregationID is "<cube>.<name>".
	PreAggregationID string `json:"preAggregationId"`
	TargetTableName  string `json:"targetTableName"`
	Type             string `json:"type"`
	// RefreshKeyValues holds the value of the refresh key the table was built under.
	RefreshKeyValues []string `json:"refreshKeyValues"`
	// LastUpdatedAt is when the table's build started, in Unix milliseconds.
	LastUpdatedAt int64 `json:"lastUpdatedAt"`
}

// usedRollup records the rollup a result was read from.
func (r *Result) usedRollup(u *preagg.Use) {
	t := u.Table
	r.UsedPreAggregations = map[string]UsedPreAggregation{t.Name: {
		PreAggregationID: u.Rollup.ID(), TargetTableName: t.Name, Type: "rollup",
		RefreshKeyValues: []string{t.RefreshKey}, LastUpdatedAt: t.BuiltAt.UnixMilli(),
	}}
	r.External = true
	r.ExtDBType = u.Dialect().Name()
}
