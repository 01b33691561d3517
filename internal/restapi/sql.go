package restapi

import (
	"encoding/json"
	"net/http"

	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/plan"
)

// sqlInfo is the "sql" object of a /v1/sql response (spec A.6), plus the join path Cubit
// chose, so the SQL can be explained.
type sqlInfo struct {
	SQL                    [2]any            `json:"sql"`
	TimeDimensionAlias     string            `json:"timeDimensionAlias,omitempty"`
	TimeDimensionField     string            `json:"timeDimensionField,omitempty"`
	Order                  map[string]string `json:"order"`
	CacheKeyQueries        []any             `json:"cacheKeyQueries"`
	PreAggregations        []any             `json:"preAggregations"`
	DataSource             string            `json:"dataSource"`
	AliasNameToMember      map[string]string `json:"aliasNameToMember"`
	CanUseTransformedQuery map[string]any    `json:"canUseTransformedQuery"`
	MemberNames            []string          `json:"memberNames"`
	External               bool              `json:"external"`
	LambdaQueries          map[string]any    `json:"lambdaQueries"`
	JoinPath               string            `json:"joinPath"`
}

// sql answers /v1/sql: the SQL each query of the request compiles to, without running it.
func (a *API) sql(w http.ResponseWriter, r *http.Request, claims map[string]any) {
	req, _, err := parseRequest(r, claims)
	if err != nil {
		writeError(w, r, err)
		return
	}
	eng := a.engine(r)
	var infos []map[string]any
	for _, q := range engine.Expand(req.Request) {
		c, err := eng.Compile(q)
		if err != nil {
			writeError(w, r, err)
			return
		}
		infos = append(infos, map[string]any{"sql": describe(c)})
	}
	if len(infos) == 1 && !req.Array && !req.Multi {
		writeJSON(w, http.StatusOK, infos[0])
		return
	}
	writeJSON(w, http.StatusOK, infos)
}

func describe(c *engine.Compiled) sqlInfo {
	args := c.Statement.Args
	if args == nil {
		args = []any{}
	}
	info := sqlInfo{
		SQL:                    [2]any{c.Statement.SQL, args},
		Order:                  map[string]string{},
		CacheKeyQueries:        []any{},
		PreAggregations:        []any{},
		DataSource:             "default",
		AliasNameToMember:      map[string]string{},
		CanUseTransformedQuery: map[string]any{"allowed": false},
		LambdaQueries:          map[string]any{},
		JoinPath:               c.Plan.Tree.String(),
	}
	for _, col := range c.Plan.Columns {
		info.AliasNameToMember[col.Alias] = col.Key
		info.MemberNames = append(info.MemberNames, col.Key)
		if col.Kind == plan.ColTime && info.TimeDimensionAlias == "" {
			info.TimeDimensionAlias = col.Alias
			info.TimeDimensionField = col.Key
		}
	}
	for _, o := range c.Resolved.Order {
		dir := "asc"
		if o.Desc {
			dir = "desc"
		}
		info.Order[o.Key] = dir
	}
	return info
}

// dryRun answers /v1/dry-run: the normalised queries and their order, without running them.
func (a *API) dryRun(w http.ResponseWriter, r *http.Request, claims map[string]any) {
	req, _, err := parseRequest(r, claims)
	if err != nil {
		writeError(w, r, err)
		return
	}
	eng := a.engine(r)
	queryType := "regularQuery"
	switch {
	case req.Array:
		queryType = "blendingQuery"
	case len(engine.Expand(req.Request)) > 1:
		queryType = "compareDateRangeQuery"
	}
	var normalized []json.RawMessage
	var order []map[string]string
	for _, q := range engine.Expand(req.Request) {
		c, err := eng.Compile(q)
		if err != nil {
			writeError(w, r, err)
			return
		}
		normalized = append(normalized, engine.Echo(c))
		for _, o := range c.Resolved.Order {
			dir := "asc"
			if o.Desc {
				dir = "desc"
			}
			order = append(order, map[string]string{o.Key: dir})
		}
	}
	if order == nil {
		order = []map[string]string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"queryType":          queryType,
		"normalizedQueries":  normalized,
		"queryOrder":         order,
		"transformedQueries": make([]any, len(normalized)),
		"pivotQuery":         normalized[0],
	})
}

// meta answers /v1/meta (?extended adds the raw definitions).
func (a *API) meta(w http.ResponseWriter, r *http.Request, _ map[string]any) {
	_, extended := r.URL.Query()["extended"]
	onlyViews := r.URL.Query().Get("onlyViews") == "true"
	writeJSON(w, http.StatusOK, a.engine(r).Meta(engine.MetaOptions{Extended: extended, OnlyViews: onlyViews}))
}
