// Package plan turns a resolved query into a logical plan: the join tree, which measures
// are safe to aggregate over it and which would be multiplied by a one-to-many join (and so
// are aggregated at their own grain first), the split of filters into WHERE and HAVING, and
// the rolling-window and sub-query parts.
//
// It decides; package sqlgen renders. It knows the model and the query, never a dialect or
// a driver.
package plan
