package engine

// MetaOptions select what /v1/meta shows.
type MetaOptions struct {
	// Extended adds the raw definitions: SQL, joins, pre-aggregations.
	Extended bool
	// OnlyViews drops cubes and keeps views.
	OnlyViews bool
}

// Meta describes the model's visible cubes and views for /v1/meta (spec C.4).
func (e *Engine) Meta(opt MetaOptions) map[string]any {
	return map[string]any{"cubes": []any{}}
}
