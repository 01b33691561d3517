package query

import (
	"strconv"
	"strings"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
)

// Dates are computed as wall clocks: a time.Time in UTC whose fields are the local date and
// time in the query zone. Calendar arithmetic on wall clocks never meets a DST jump, and the
// result is what Cube prints ("YYYY-MM-DDTHH:mm:ss.SSS", no offset). Only "now" (going in)
// and Instant (going out to SQL) cross between wall clocks and real instants.

// wallLayout is Cube's local timestamp format.
const wallLayout = "2006-01-02T15:04:05.000"

// maxCount bounds N in "last N days" so that arithmetic cannot overflow; anything this
// large leaves the years 1-9999 anyway and is rejected there.
const maxCount = 1_000_000

// Range is a resolved date range: local wall-clock times in the query time zone, formatted
// "YYYY-MM-DDTHH:mm:ss.SSS". Both ends are inclusive; an end that names a whole period
// (a day, a month) ends in ".999".
type Range struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// String renders the range as Cube labels compareDateRange rows: "<from> - <to>".
func (r Range) String() string { return r.From + " - " + r.To }

// UTC returns the range's bounds as instants for SQL, converting the local wall clocks with
// loc. The end stays inclusive and gains microsecond precision (.999 becomes .999999).
func (r Range) UTC(loc *time.Location) (from, to time.Time, err error) {
	if from, err = Instant(r.From, loc, false); err != nil {
		return from, to, err
	}
	to, err = Instant(r.To, loc, true)
	return from, to, err
}

// Instant converts a normalised local bound ("YYYY-MM-DDTHH:mm:ss.SSS" in loc) to an
// instant. An inclusive end bound (end is true) ending in .999 is padded to .999999 so that
// microsecond columns are not cut off. Where the wall clock occurs twice (clocks going back)
// a start takes the earlier reading and an end the later one, so the range covers both;
// where it does not occur at all (clocks going forward) a start is the instant of the jump
// and an end the microsecond before it.
func Instant(local string, loc *time.Location, end bool) (time.Time, error) {
	w, err := time.Parse(wallLayout, local)
	if err != nil {
		return time.Time{}, errs.Invalid("Can't parse date: '%s' (want YYYY-MM-DDTHH:mm:ss.SSS)", local)
	}
	if end && w.Nanosecond() == 999_000_000 {
		w = w.Add(999 * time.Microsecond)
	}
	return inZone(w, loc, end), nil
}

// inZone reads wall clock w in loc, picking the latest reading of an ambiguous wall clock
// when latest is set and the earliest otherwise.
func inZone(w time.Time, loc *time.Location, latest bool) time.Time {
	t := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), loc)
	if !wallOf(t).Equal(w) {
		jump := skippedTo(w, loc, t)
		if latest {
			return jump.Add(-time.Microsecond)
		}
		return jump
	}
	// The other reading, if any, uses the offset in force on the other side of the nearby
	// transition; no zone changes offset twice within six hours.
	for _, probe := range [...]time.Duration{-6 * time.Hour, 6 * time.Hour} {
		_, off := t.Add(probe).Zone()
		c := w.Add(-time.Duration(off) * time.Second).In(loc)
		if wallOf(c).Equal(w) && (latest && c.After(t) || !latest && c.Before(t)) {
			t = c
		}
	}
	return t
}

// skippedTo returns the instant at which loc's clocks jumped over wall clock w: the first
// instant whose wall clock is later than w. time.Date reads such a w with one of the two
// offsets (near); the jump is within a day of it (Samoa skipped a whole day in 2011).
func skippedTo(w time.Time, loc *time.Location, near time.Time) time.Time {
	lo, hi := near.Add(-36*time.Hour), near.Add(36*time.Hour)
	for hi.Sub(lo) > time.Nanosecond {
		mid := lo.Add(hi.Sub(lo) / 2)
		if wallOf(mid.In(loc)).Before(w) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// wallOf returns t's wall clock in its own location.
func wallOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// formatWall prints a wall clock in Cube's format, refusing years it cannot print.
func formatWall(w time.Time, text string) (string, error) {
	if w.Year() < 1 || w.Year() > 9999 {
		return "", errs.Invalid("Can't parse date: '%s' (the date falls outside the years 0001-9999)", text)
	}
	return w.Format(wallLayout), nil
}

// unit is a calendar unit of relative date expressions.
type unit int

const (
	unitSecond unit = iota
	unitMinute
	unitHour
	unitDay
	unitWeek
	unitMonth
	unitQuarter
	unitYear
)

// parseUnit reads a unit word, singular or plural.
func parseUnit(word string) (unit, bool) {
	switch strings.TrimSuffix(word, "s") {
	case "second":
		return unitSecond, true
	case "minute":
		return unitMinute, true
	case "hour":
		return unitHour, true
	case "day":
		return unitDay, true
	case "week":
		return unitWeek, true
	case "month":
		return unitMonth, true
	case "quarter":
		return unitQuarter, true
	case "year":
		return unitYear, true
	}
	return 0, false
}

// duration is the fixed length of a sub-day unit, and 0 for calendar units.
func (u unit) duration() time.Duration {
	switch u {
	case unitSecond:
		return time.Second
	case unitMinute:
		return time.Minute
	case unitHour:
		return time.Hour
	}
	return 0
}

// start truncates wall clock w to the start of its period; weeks start on Monday (ISO).
func (u unit) start(w time.Time) time.Time {
	y, m, d := w.Date()
	switch u {
	case unitSecond, unitMinute, unitHour:
		return w.Truncate(u.duration()) // UTC-based truncation is exact on a wall clock
	case unitDay:
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	case unitWeek:
		back := (int(w.Weekday()) + 6) % 7
		return time.Date(y, m, d-back, 0, 0, 0, 0, time.UTC)
	case unitMonth:
		return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	case unitQuarter:
		return time.Date(y, (m-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
}

// end returns the last millisecond of w's period.
func (u unit) end(w time.Time) time.Time {
	return u.shift(u.start(w), 1).Add(-time.Millisecond)
}

// shift moves wall clock w by n units. Months clamp the day to the target month's length
// (Mar 31 minus one month is Feb 29, not Mar 2) as moment.js and chrono do.
func (u unit) shift(w time.Time, n int) time.Time {
	switch u {
	case unitSecond, unitMinute, unitHour:
		return w.Add(time.Duration(n) * u.duration())
	case unitDay:
		return w.AddDate(0, 0, n)
	case unitWeek:
		return w.AddDate(0, 0, 7*n)
	case unitMonth:
		return addMonths(w, n)
	case unitQuarter:
		return addMonths(w, 3*n)
	}
	return addMonths(w, 12*n)
}

// at returns the wall clock n units away from now (a real instant in the query zone).
// Sub-day units count elapsed time, so "last hour" across a DST jump is the hour that really
// passed; longer units count calendar days, so "yesterday" is always the previous date.
func (u unit) at(now time.Time, n int) time.Time {
	if d := u.duration(); d != 0 {
		return wallOf(now.Add(time.Duration(n) * d))
	}
	return u.shift(wallOf(now), n)
}

func addMonths(w time.Time, n int) time.Time {
	y, m, d := w.Date()
	first := time.Date(y, m+time.Month(n), 1, w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC)
	last := time.Date(first.Year(), first.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// period returns the range covering the period of u that contains wall clock w.
func (u unit) period(w time.Time, text string) (Range, error) {
	return wallRange(u.start(w), u.end(w), text)
}

// wallRange formats two wall clocks as a Range, rejecting a range that ends before it starts.
func wallRange(from, to time.Time, text string) (Range, error) {
	f, err := formatWall(from, text)
	if err != nil {
		return Range{}, err
	}
	t, err := formatWall(to, text)
	if err != nil {
		return Range{}, err
	}
	if from.After(to) {
		return Range{}, errs.Invalid("Invalid date range '%s': it starts at %s, after it ends at %s", text, f, t)
	}
	return Range{From: f, To: t}, nil
}

// resolveText resolves a date range given as one string, at now (an instant in the query
// zone). It understands Cube's forms (spec B.3): today, yesterday, tomorrow;
// this|last|next <unit>; last|next N <units>; from <X> to <Y>; and a lone point such as an
// absolute date, which covers its whole day.
func resolveText(text string, now time.Time) (Range, error) {
	s := strings.ToLower(strings.TrimSpace(text))
	words := strings.Fields(s)
	if len(words) == 0 {
		return Range{}, cantParse(text)
	}
	switch {
	case len(words) == 2 && (words[0] == "this" || words[0] == "last" || words[0] == "next"):
		return shiftedPeriod(words, now, text)
	case len(words) == 3 && (words[0] == "last" || words[0] == "next"):
		return countedPeriods(words, now, text)
	case words[0] == "from":
		return fromTo(words[1:], exactUnit(s), now, text)
	}
	// Cube hands anything else to a natural-language parser and keeps the day (or finer unit)
	// around the single point it finds; the points Cubit understands are listed at point().
	w, dateOnly, err := point(words, now, text)
	if err != nil {
		return Range{}, err
	}
	u := exactUnit(s)
	if dateOnly {
		u = unitDay
	}
	return u.period(w, text)
}

// shiftedPeriod resolves "this|last|next <unit>": the current period, or the one before or
// after it.
func shiftedPeriod(words []string, now time.Time, text string) (Range, error) {
	u, ok := parseUnit(words[1])
	if !ok {
		return Range{}, cantParse(text)
	}
	n := 0
	switch words[0] {
	case "last":
		n = -1
	case "next":
		n = 1
	}
	return u.period(u.at(now, n), text)
}

// countedPeriods resolves "last N <units>" (the N whole periods before the current one) and
// "next N <units>" (the N after it); the current period is in neither.
func countedPeriods(words []string, now time.Time, text string) (Range, error) {
	n, okN := parseCount(words[1])
	u, okU := parseUnit(words[2])
	if !okN || !okU || n < 1 {
		return Range{}, cantParse(text)
	}
	if words[0] == "last" {
		return wallRange(u.start(u.at(now, -n)), u.end(u.at(now, -1)), text)
	}
	return wallRange(u.start(u.at(now, 1)), u.end(u.at(now, n)), text)
}

// fromTo resolves "from <X> to <Y>": from the start of X's unit to the end of Y's, where the
// unit is u (day unless the text names a finer one); a bare date keeps its whole day.
func fromTo(words []string, u unit, now time.Time, text string) (Range, error) {
	sep := -1
	for i, w := range words {
		if w == "to" {
			sep = i
			break
		}
	}
	if sep < 1 || sep == len(words)-1 {
		return Range{}, cantParse(text)
	}
	from, fromDate, err := point(words[:sep], now, strings.Join(words[:sep], " "))
	if err != nil {
		return Range{}, err
	}
	to, toDate, err := point(words[sep+1:], now, strings.Join(words[sep+1:], " "))
	if err != nil {
		return Range{}, err
	}
	fromUnit, toUnit := u, u
	if fromDate {
		fromUnit = unitDay
	}
	if toDate {
		toUnit = unitDay
	}
	return wallRange(fromUnit.start(from), toUnit.end(to), text)
}

// point resolves one point in time, as a wall clock: now, today, yesterday, tomorrow,
// "N <units> ago", "N <units> from now", or an absolute date or timestamp. dateOnly reports
// an absolute date without a time.
func point(words []string, now time.Time, text string) (w time.Time, dateOnly bool, err error) {
	switch {
	case len(words) == 1 && (words[0] == "now" || words[0] == "today"):
		return wallOf(now), false, nil
	case len(words) == 1 && words[0] == "yesterday":
		return unitDay.at(now, -1), false, nil
	case len(words) == 1 && words[0] == "tomorrow":
		return unitDay.at(now, 1), false, nil
	case len(words) == 3 && words[2] == "ago":
		if n, u, ok := countAndUnit(words[0], words[1]); ok {
			return u.at(now, -n), false, nil
		}
	case len(words) == 4 && words[2] == "from" && words[3] == "now":
		if n, u, ok := countAndUnit(words[0], words[1]); ok {
			return u.at(now, n), false, nil
		}
	}
	if w, dateOnly, ok := parseAbsolute(strings.Join(words, " ")); ok {
		return w, dateOnly, nil
	}
	return time.Time{}, false, cantParse(text)
}

func countAndUnit(count, word string) (int, unit, bool) {
	n, okN := parseCount(count)
	u, okU := parseUnit(word)
	return n, u, okN && okU
}

// parseCount reads a non-negative decimal count no larger than maxCount.
func parseCount(s string) (int, bool) {
	if s == "" || len(s) > 7 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n <= maxCount
}

// exactUnit is the unit Cube truncates a point to: the finest of second, minute and hour
// named anywhere in the text, else day.
func exactUnit(s string) unit {
	switch {
	case strings.Contains(s, "second"):
		return unitSecond
	case strings.Contains(s, "minute"):
		return unitMinute
	case strings.Contains(s, "hour"):
		return unitHour
	}
	return unitDay
}

func cantParse(text string) error {
	return errs.Invalid("Can't parse date: '%s'", text)
}

// resolveDateRange resolves a dateRange (or one compareDateRange entry) at now: a relative
// string, one date (the range [d, d]) or two dates [from, to].
func resolveDateRange(r DateRange, now time.Time) (Range, error) {
	switch {
	case r.Relative != "" && len(r.Bounds) > 0:
		return Range{}, errs.Invalid("Invalid query format: a date range is either a string or an array, not both")
	case r.Relative != "":
		return resolveText(r.Relative, now)
	case len(r.Bounds) == 1:
		if _, _, ok := parseAbsolute(r.Bounds[0]); !ok {
			// One relative expression in an array means the same as the bare string.
			return resolveText(r.Bounds[0], now)
		}
		return absoluteRange(r.Bounds[0], r.Bounds[0])
	case len(r.Bounds) == 2:
		return absoluteRange(r.Bounds[0], r.Bounds[1])
	}
	return Range{}, errs.Invalid("Invalid query format: a date range array must hold one or two dates, got %d", len(r.Bounds))
}

// absoluteRange resolves [from, to] given as absolute dates or timestamps: a bare date
// starts at 00:00:00.000 and ends at 23:59:59.999, a timestamp is kept as given.
func absoluteRange(from, to string) (Range, error) {
	f, err := absoluteBound(from, false)
	if err != nil {
		return Range{}, err
	}
	t, err := absoluteBound(to, true)
	if err != nil {
		return Range{}, err
	}
	return wallRange(f, t, from+" - "+to)
}

// absoluteBound parses one absolute date; a bare date is padded to its start or its end.
func absoluteBound(s string, end bool) (time.Time, error) {
	w, dateOnly, ok := parseAbsolute(s)
	if !ok {
		return time.Time{}, errs.Invalid(`Can't parse date: '%s' (a date range array takes absolute dates like "2024-01-31" or "2024-01-31T18:00:00"; send a relative range such as "last 7 days" as a plain string)`, s)
	}
	if dateOnly && end {
		return unitDay.end(w), nil
	}
	return w, nil
}

// parseAbsolute parses YYYY-MM-DD with an optional time ("T" or a space, HH:mm, optional
// :ss and up to six fractional digits) and an optional "Z" or ±HH[:]MM offset. As in Cube
// (moment.utc), an offset is applied and the result read as a UTC wall clock; fractions are
// cut to milliseconds. ok is false for anything else, including impossible calendar dates.
func parseAbsolute(s string) (w time.Time, dateOnly bool, ok bool) {
	y, okY := digits(s, 0, 4)
	mo, okM := digits(s, 5, 2)
	d, okD := digits(s, 8, 2)
	if !okY || !okM || !okD || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false, false
	}
	rest := s[10:]
	if rest == "" {
		w, ok = civil(y, mo, d, 0, 0, 0, 0)
		return w, true, ok
	}
	if rest[0] != 'T' && rest[0] != 't' && rest[0] != ' ' {
		return time.Time{}, false, false
	}
	h, mi, sec, ms, off, ok := parseClock(rest[1:])
	if !ok {
		return time.Time{}, false, false
	}
	w, ok = civil(y, mo, d, h, mi, sec, ms)
	return w.Add(-off), false, ok
}

// parseClock parses HH:mm[:ss[.f{1,6}]][Z|±HH[:]MM].
func parseClock(s string) (h, mi, sec, ms int, off time.Duration, ok bool) {
	h, okH := digits(s, 0, 2)
	mi, okM := digits(s, 3, 2)
	if !okH || !okM || s[2] != ':' {
		return 0, 0, 0, 0, 0, false
	}
	s = s[5:]
	if len(s) > 0 && s[0] == ':' {
		if sec, ok = digits(s, 1, 2); !ok {
			return 0, 0, 0, 0, 0, false
		}
		s = s[3:]
		if ms, s, ok = parseFraction(s); !ok {
			return 0, 0, 0, 0, 0, false
		}
	}
	if off, ok = parseOffset(s); !ok {
		return 0, 0, 0, 0, 0, false
	}
	return h, mi, sec, ms, off, true
}

// parseFraction reads an optional "." and 1-6 digits, returning whole milliseconds.
func parseFraction(s string) (ms int, rest string, ok bool) {
	if s == "" || s[0] != '.' {
		return 0, s, true
	}
	n := 1
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	frac := s[1:n]
	if len(frac) < 1 || len(frac) > 6 {
		return 0, s, false
	}
	frac = (frac + "00")[:3]
	ms, _ = strconv.Atoi(frac)
	return ms, s[n:], true
}

// parseOffset reads "", "Z" or ±HH, ±HHMM, ±HH:MM and returns the offset east of UTC.
func parseOffset(s string) (time.Duration, bool) {
	if s == "" || s == "Z" || s == "z" {
		return 0, true
	}
	sign, body := time.Duration(1), s[1:]
	switch s[0] {
	case '+':
	case '-':
		sign = -1
	default:
		return 0, false
	}
	if len(body) == 5 && body[2] == ':' {
		body = body[:2] + body[3:]
	}
	if len(body) == 2 {
		body += "00"
	}
	h, okH := digits(body, 0, 2)
	m, okM := digits(body, 2, 2)
	if len(body) != 4 || !okH || !okM || h > 23 || m > 59 {
		return 0, false
	}
	return sign * (time.Duration(h)*time.Hour + time.Duration(m)*time.Minute), true
}

// digits reads n decimal digits of s starting at i.
func digits(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// civil builds a wall clock, refusing fields that time.Date would silently roll over.
func civil(y, mo, d, h, mi, s, ms int) (time.Time, bool) {
	if y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59 {
		return time.Time{}, false
	}
	w := time.Date(y, time.Month(mo), d, h, mi, s, ms*int(time.Millisecond), time.UTC)
	return w, w.Day() == d
}
