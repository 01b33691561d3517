package query

import (
	"fmt"
	"slices"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
)

// normFilters normalises a list of filters found at path. Empty groups are dropped: they
// constrain nothing, and dropping them spares every later stage the special case.
func normFilters(fs []Filter, now time.Time, path string) ([]Filter, error) {
	out := make([]Filter, 0, len(fs))
	for i, f := range fs {
		p := fmt.Sprintf("%s[%d]", path, i)
		var (
			nf  Filter
			err error
		)
		if f.IsGroup() {
			nf, err = normGroup(f, now, p)
		} else {
			nf, err = normCondition(f, now, p)
		}
		if err != nil {
			return nil, err
		}
		if !nf.IsGroup() || len(nf.And)+len(nf.Or) > 0 {
			out = append(out, nf)
		}
	}
	return out, nil
}

func normGroup(f Filter, now time.Time, path string) (Filter, error) {
	if f.And != nil && f.Or != nil || f.Member != "" || f.Operator != "" || f.Values != nil {
		return Filter{}, errs.Invalid(`Invalid query format: %s must be either a condition or one "and"/"or" group, got %s`, path, f)
	}
	if f.And != nil {
		and, err := normFilters(f.And, now, path+".and")
		return Filter{And: and}, err
	}
	or, err := normFilters(f.Or, now, path+".or")
	return Filter{Or: or}, err
}

// normCondition checks a condition as Cube's normalizeQueryFilters does, in its words, and
// resolves date operators' values to local wall-clock bounds.
func normCondition(f Filter, now time.Time, path string) (Filter, error) {
	switch {
	case f.Member == "":
		return f, errs.Invalid("Member required for filter: %s", f)
	case f.Operator == "":
		return f, errs.Invalid("Operator required for filter: %s", f)
	case !f.Operator.Valid():
		return f, &errs.Error{
			Kind:       errs.KindInvalid,
			Message:    fmt.Sprintf("Operator %s not supported for filter: %s", f.Operator, f),
			Suggestion: errs.Nearest(string(f.Operator), operatorNames()),
		}
	case f.Operator.NeedsValues() && len(f.Values) == 0:
		return f, errs.Invalid("Values required for filter: %s", f)
	}
	out := f
	out.Values = slices.Clone(f.Values)
	var err error
	switch op := f.Operator; {
	case op == OpGt || op == OpGte || op == OpLt || op == OpLte:
		if f.Values[0] == nil {
			err = errs.Invalid("Operator %s compares with the first value, which must not be null, in filter: %s", op, f)
		}
	case op.IsDateRange():
		out.Values, err = dateRangeValues(f, now)
	case op.IsSingleDate():
		out.Values, err = singleDateValue(f, now)
	}
	if err != nil {
		return out, at(err, path+".values")
	}
	return out, nil
}

// dateRangeValues resolves the values of inDateRange, notInDateRange and onTheDate to
// [from, to]: one value is a date range string (relative, or a date meaning its whole day),
// two are absolute dates or timestamps.
func dateRangeValues(f Filter, now time.Time) ([]*string, error) {
	vals, err := dateStrings(f)
	if err != nil {
		return nil, err
	}
	var r Range
	switch len(vals) {
	case 1:
		r, err = resolveText(vals[0], now)
	case 2:
		for _, v := range vals {
			if _, _, ok := parseAbsolute(v); !ok {
				return nil, errs.Invalid("Relative-date strings are only supported when `values` has a single element for operator `%s`. Pass an absolute two-element [start, end] pair, or a single relative string like [\"last 2 weeks\"]. Got: %s", f.Operator, f)
			}
		}
		r, err = absoluteRange(vals[0], vals[1])
	default:
		return nil, errs.Invalid("Operator %s takes one relative date range or two dates [from, to], got %d values in filter: %s", f.Operator, len(vals), f)
	}
	if err != nil {
		return nil, err
	}
	return []*string{&r.From, &r.To}, nil
}

// singleDateValue resolves the one value of beforeDate, beforeOrOnDate, afterDate and
// afterOrOnDate to one local bound, with Tesseract's rule (spec B.2): beforeDate and
// afterOrOnDate compare with the start of the value, beforeOrOnDate and afterDate with its
// end, whether the value is relative ("last week") or a bare date ("2024-01-01" ends at
// 23:59:59.999). A timestamp is its own start and end.
func singleDateValue(f Filter, now time.Time) ([]*string, error) {
	vals, err := dateStrings(f)
	if err != nil {
		return nil, err
	}
	if len(vals) != 1 {
		return nil, errs.Invalid("Operator %s takes exactly one date, got %d values in filter: %s", f.Operator, len(vals), f)
	}
	var r Range
	if _, _, ok := parseAbsolute(vals[0]); ok {
		r, err = absoluteRange(vals[0], vals[0])
	} else {
		r, err = resolveText(vals[0], now)
	}
	if err != nil {
		return nil, err
	}
	if f.Operator.UsesEndBound() {
		return []*string{&r.To}, nil
	}
	return []*string{&r.From}, nil
}

// dateStrings returns a date filter's values, refusing nulls.
func dateStrings(f Filter) ([]string, error) {
	out := make([]string, len(f.Values))
	for i, v := range f.Values {
		if v == nil {
			return nil, errs.Invalid("Operator %s takes dates, not null, in filter: %s", f.Operator, f)
		}
		out[i] = *v
	}
	return out, nil
}

func operatorNames() []string {
	ops := []Operator{OpEquals, OpNotEquals, OpIn, OpNotIn, OpContains, OpNotContains,
		OpStartsWith, OpNotStartsWith, OpEndsWith, OpNotEndsWith, OpGt, OpGte, OpLt, OpLte,
		OpSet, OpNotSet, OpInDateRange, OpNotInDateRange, OpOnTheDate, OpBeforeDate,
		OpBeforeOrOnDate, OpAfterDate, OpAfterOrOnDate, OpMeasureFilter}
	names := make([]string, len(ops))
	for i, o := range ops {
		names[i] = string(o)
	}
	return names
}
