package query

import (
	"testing"
	"time"
)

// testNow is a Wednesday afternoon in UTC; in New York it is 11:04:05 EDT (three days after
// the spring DST change) and in Kolkata 20:34:05.
const testNow = "2024-03-13T15:04:05Z"

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestResolveRelative(t *testing.T) {
	tests := []struct {
		text, tz, now string // tz "" is UTC, now "" is testNow
		from, to      string
	}{
		{"today", "", "", "2024-03-13T00:00:00.000", "2024-03-13T23:59:59.999"},
		{"yesterday", "", "", "2024-03-12T00:00:00.000", "2024-03-12T23:59:59.999"},
		{"tomorrow", "", "", "2024-03-14T00:00:00.000", "2024-03-14T23:59:59.999"},
		{"  Today ", "", "", "2024-03-13T00:00:00.000", "2024-03-13T23:59:59.999"},

		{"this second", "", "", "2024-03-13T15:04:05.000", "2024-03-13T15:04:05.999"},
		{"this minute", "", "", "2024-03-13T15:04:00.000", "2024-03-13T15:04:59.999"},
		{"this hour", "", "", "2024-03-13T15:00:00.000", "2024-03-13T15:59:59.999"},
		{"this day", "", "", "2024-03-13T00:00:00.000", "2024-03-13T23:59:59.999"},
		{"this week", "", "", "2024-03-11T00:00:00.000", "2024-03-17T23:59:59.999"},
		{"this month", "", "", "2024-03-01T00:00:00.000", "2024-03-31T23:59:59.999"},
		{"this quarter", "", "", "2024-01-01T00:00:00.000", "2024-03-31T23:59:59.999"},
		{"this year", "", "", "2024-01-01T00:00:00.000", "2024-12-31T23:59:59.999"},
		{"last second", "", "", "2024-03-13T15:04:04.000", "2024-03-13T15:04:04.999"},
		{"last minute", "", "", "2024-03-13T15:03:00.000", "2024-03-13T15:03:59.999"},
		{"last hour", "", "", "2024-03-13T14:00:00.000", "2024-03-13T14:59:59.999"},
		{"last day", "", "", "2024-03-12T00:00:00.000", "2024-03-12T23:59:59.999"},
		{"last week", "", "", "2024-03-04T00:00:00.000", "2024-03-10T23:59:59.999"},
		{"last month", "", "", "2024-02-01T00:00:00.000", "2024-02-29T23:59:59.999"},
		{"last quarter", "", "", "2023-10-01T00:00:00.000", "2023-12-31T23:59:59.999"},
		{"last year", "", "", "2023-01-01T00:00:00.000", "2023-12-31T23:59:59.999"},
		{"next hour", "", "", "2024-03-13T16:00:00.000", "2024-03-13T16:59:59.999"},
		{"next week", "", "", "2024-03-18T00:00:00.000", "2024-03-24T23:59:59.999"},
		{"next month", "", "", "2024-04-01T00:00:00.000", "2024-04-30T23:59:59.999"},
		{"next quarter", "", "", "2024-04-01T00:00:00.000", "2024-06-30T23:59:59.999"},
		{"next year", "", "", "2025-01-01T00:00:00.000", "2025-12-31T23:59:59.999"},
		{"this weeks", "", "", "2024-03-11T00:00:00.000", "2024-03-17T23:59:59.999"},

		// "last N" excludes the current period; "next N" starts after it.
		{"last 7 days", "", "", "2024-03-06T00:00:00.000", "2024-03-12T23:59:59.999"},
		{"Last 7 Days", "", "", "2024-03-06T00:00:00.000", "2024-03-12T23:59:59.999"},
		{"last 1 day", "", "", "2024-03-12T00:00:00.000", "2024-03-12T23:59:59.999"},
		{"last 2 weeks", "", "", "2024-02-26T00:00:00.000", "2024-03-10T23:59:59.999"},
		{"last 3 months", "", "", "2023-12-01T00:00:00.000", "2024-02-29T23:59:59.999"},
		{"last 2 quarters", "", "", "2023-07-01T00:00:00.000", "2023-12-31T23:59:59.999"},
		{"last 2 years", "", "", "2022-01-01T00:00:00.000", "2023-12-31T23:59:59.999"},
		{"last 6 hours", "", "", "2024-03-13T09:00:00.000", "2024-03-13T14:59:59.999"},
		{"last 30 minutes", "", "", "2024-03-13T14:34:00.000", "2024-03-13T15:03:59.999"},
		{"last 10 seconds", "", "", "2024-03-13T15:03:55.000", "2024-03-13T15:04:04.999"},
		{"next 7 days", "", "", "2024-03-14T00:00:00.000", "2024-03-20T23:59:59.999"},
		{"next 2 months", "", "", "2024-04-01T00:00:00.000", "2024-05-31T23:59:59.999"},
		{"next 3 hours", "", "", "2024-03-13T16:00:00.000", "2024-03-13T18:59:59.999"},
		{"next 1 year", "", "", "2025-01-01T00:00:00.000", "2025-12-31T23:59:59.999"},

		// from X to Y: whole days unless a finer unit is named anywhere in the text.
		{"from 7 days ago to now", "", "", "2024-03-06T00:00:00.000", "2024-03-13T23:59:59.999"},
		{"from 2 weeks ago to today", "", "", "2024-02-28T00:00:00.000", "2024-03-13T23:59:59.999"},
		{"from yesterday to tomorrow", "", "", "2024-03-12T00:00:00.000", "2024-03-14T23:59:59.999"},
		{"from 2 months ago to 1 month from now", "", "", "2024-01-13T00:00:00.000", "2024-04-13T23:59:59.999"},
		{"from 1 year ago to now", "", "", "2023-03-13T00:00:00.000", "2024-03-13T23:59:59.999"},
		{"from 2024-01-01 to 2024-01-31", "", "", "2024-01-01T00:00:00.000", "2024-01-31T23:59:59.999"},
		{"from 2024-01-01T10:30 to 2024-01-02T08:00:00", "", "", "2024-01-01T00:00:00.000", "2024-01-02T23:59:59.999"},
		{"from 2024-01-01 10:30:00 to now", "", "", "2024-01-01T00:00:00.000", "2024-03-13T23:59:59.999"},
		{"from 2024-01-01 to 3 hours from now", "", "", "2024-01-01T00:00:00.000", "2024-03-13T18:59:59.999"},
		{"from 3 hours ago to now", "", "", "2024-03-13T12:00:00.000", "2024-03-13T15:59:59.999"},
		{"from 30 minutes ago to 10 minutes from now", "", "", "2024-03-13T14:34:00.000", "2024-03-13T15:14:59.999"},
		{"from 15 seconds ago to now", "", "", "2024-03-13T15:03:50.000", "2024-03-13T15:04:05.999"},
		{"from 0 days ago to 0 days from now", "", "", "2024-03-13T00:00:00.000", "2024-03-13T23:59:59.999"},

		// One point: its whole day, or its finer unit when the text names one.
		{"2024-01-05", "", "", "2024-01-05T00:00:00.000", "2024-01-05T23:59:59.999"},
		{"2024-01-05T10:00:00", "", "", "2024-01-05T00:00:00.000", "2024-01-05T23:59:59.999"},
		{"now", "", "", "2024-03-13T00:00:00.000", "2024-03-13T23:59:59.999"},
		{"3 days ago", "", "", "2024-03-10T00:00:00.000", "2024-03-10T23:59:59.999"},
		{"2 hours ago", "", "", "2024-03-13T13:00:00.000", "2024-03-13T13:59:59.999"},
		{"1 week from now", "", "", "2024-03-20T00:00:00.000", "2024-03-20T23:59:59.999"},

		// Months clamp: one month before March 31 is February 29.
		{"from 1 month ago to now", "", "2024-03-31T12:00:00Z", "2024-02-29T00:00:00.000", "2024-03-31T23:59:59.999"},
		{"last month", "", "2024-03-31T12:00:00Z", "2024-02-01T00:00:00.000", "2024-02-29T23:59:59.999"},
		{"1 year ago", "", "2024-02-29T12:00:00Z", "2023-02-28T00:00:00.000", "2023-02-28T23:59:59.999"},
		// Weeks are ISO: on a Sunday "this week" began six days earlier.
		{"this week", "", "2024-03-17T23:00:00Z", "2024-03-11T00:00:00.000", "2024-03-17T23:59:59.999"},
		{"this week", "", "2024-03-18T00:00:00Z", "2024-03-18T00:00:00.000", "2024-03-24T23:59:59.999"},
		// Year boundary.
		{"last 2 days", "", "2024-01-01T00:00:00Z", "2023-12-30T00:00:00.000", "2023-12-31T23:59:59.999"},

		// Time zones: the same instant is a different wall clock, and sometimes a different day.
		{"today", "America/New_York", "", "2024-03-13T00:00:00.000", "2024-03-13T23:59:59.999"},
		{"this hour", "America/New_York", "", "2024-03-13T11:00:00.000", "2024-03-13T11:59:59.999"},
		{"last 7 days", "America/New_York", "", "2024-03-06T00:00:00.000", "2024-03-12T23:59:59.999"},
		{"today", "America/New_York", "2024-03-14T02:00:00Z", "2024-03-13T00:00:00.000", "2024-03-13T23:59:59.999"},
		{"this minute", "Asia/Kolkata", "", "2024-03-13T20:34:00.000", "2024-03-13T20:34:59.999"},
		{"this hour", "Asia/Kolkata", "", "2024-03-13T20:00:00.000", "2024-03-13T20:59:59.999"},
		{"today", "Asia/Kolkata", "2024-03-13T19:00:00Z", "2024-03-14T00:00:00.000", "2024-03-14T23:59:59.999"},
		{"last 2 hours", "Asia/Kolkata", "2024-03-13T19:00:00Z", "2024-03-13T22:00:00.000", "2024-03-13T23:59:59.999"},
		{"this month", "Asia/Kolkata", "2024-03-31T19:00:00Z", "2024-04-01T00:00:00.000", "2024-04-30T23:59:59.999"},

		// DST, New York. At 03:30 EDT on 2024-03-10, an hour of real time ago was 01:30 EST:
		// sub-day units count elapsed time, so the missing 02:00 hour is skipped.
		{"last hour", "America/New_York", "2024-03-10T07:30:00Z", "2024-03-10T01:00:00.000", "2024-03-10T01:59:59.999"},
		{"last 2 hours", "America/New_York", "2024-03-10T07:30:00Z", "2024-03-10T00:00:00.000", "2024-03-10T01:59:59.999"},
		{"this hour", "America/New_York", "2024-03-10T07:30:00Z", "2024-03-10T03:00:00.000", "2024-03-10T03:59:59.999"},
		{"today", "America/New_York", "2024-03-10T07:30:00Z", "2024-03-10T00:00:00.000", "2024-03-10T23:59:59.999"},
		{"yesterday", "America/New_York", "2024-03-11T04:30:00Z", "2024-03-10T00:00:00.000", "2024-03-10T23:59:59.999"},
		// At 01:30 EST on 2024-11-03 (the second 01:30), an hour ago was 01:30 EDT.
		{"this hour", "America/New_York", "2024-11-03T06:30:00Z", "2024-11-03T01:00:00.000", "2024-11-03T01:59:59.999"},
		{"last hour", "America/New_York", "2024-11-03T06:30:00Z", "2024-11-03T01:00:00.000", "2024-11-03T01:59:59.999"},
		{"last 2 hours", "America/New_York", "2024-11-03T06:30:00Z", "2024-11-03T00:00:00.000", "2024-11-03T01:59:59.999"},
	}
	for _, tt := range tests {
		name := tt.text + "@" + tt.tz + "@" + tt.now
		t.Run(name, func(t *testing.T) {
			tz, now := tt.tz, tt.now
			if tz == "" {
				tz = "UTC"
			}
			if now == "" {
				now = testNow
			}
			got, err := resolveText(tt.text, mustTime(t, now).In(mustLoc(t, tz)))
			if err != nil {
				t.Fatal(err)
			}
			if want := (Range{tt.from, tt.to}); got != want {
				t.Errorf("got  %v\nwant %v", got, want)
			}
		})
	}
}

func TestResolveRelativeErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"", "Can't parse date: ''"},
		{"   ", "Can't parse date: '   '"},
		{"foo", "Can't parse date: 'foo'"},
		{"last", "Can't parse date: 'last'"},
		{"this decade", "Can't parse date: 'this decade'"},
		{"last 7 fortnights", "Can't parse date: 'last 7 fortnights'"},
		{"last 0 days", "Can't parse date: 'last 0 days'"},
		{"last -1 days", "Can't parse date: 'last -1 days'"},
		{"last 1.5 days", "Can't parse date: 'last 1.5 days'"},
		{"in the last 7 days", "Can't parse date: 'in the last 7 days'"},
		{"from x to y", "Can't parse date: 'x'"},
		{"from now to y", "Can't parse date: 'y'"},
		{"from to now", "Can't parse date: 'from to now'"},
		{"from now to", "Can't parse date: 'from now to'"},
		{"from now", "Can't parse date: 'from now'"},
		{"7 days", "Can't parse date: '7 days'"},
		{"2024-02-30", "Can't parse date: '2024-02-30'"},
		{"2024-13-01", "Can't parse date: '2024-13-01'"},
		{"2023-02-29", "Can't parse date: '2023-02-29'"},
		{"from tomorrow to yesterday", "Invalid date range 'from tomorrow to yesterday': it starts at 2024-03-14T00:00:00.000, after it ends at 2024-03-12T23:59:59.999"},
		{"next 999999 years", "the date falls outside the years 0001-9999"},
		{"1000000 years ago", "the date falls outside the years 0001-9999"},
		{"last 10000000 days", "Can't parse date: 'last 10000000 days'"},
	}
	now := mustTime(t, testNow)
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r, err := resolveText(tt.text, now)
			if err == nil {
				t.Fatalf("accepted: %v", r)
			}
			wantInvalid(t, err, tt.want)
		})
	}
}

func TestResolveDateRange(t *testing.T) {
	tests := []struct {
		name     string
		in       DateRange
		from, to string
	}{
		{"two dates", DateRange{Bounds: []string{"2024-01-01", "2024-01-31"}}, "2024-01-01T00:00:00.000", "2024-01-31T23:59:59.999"},
		{"one date is its day", DateRange{Bounds: []string{"2024-01-05"}}, "2024-01-05T00:00:00.000", "2024-01-05T23:59:59.999"},
		{"one timestamp is itself", DateRange{Bounds: []string{"2024-01-05T10:00:00"}}, "2024-01-05T10:00:00.000", "2024-01-05T10:00:00.000"},
		{"timestamps reformatted", DateRange{Bounds: []string{"2024-01-01T10:00", "2024-01-01T12:30:15.123456"}}, "2024-01-01T10:00:00.000", "2024-01-01T12:30:15.123"},
		{"one-digit fraction", DateRange{Bounds: []string{"2024-01-01T10:00:00.5", "2024-01-01 11:00:00"}}, "2024-01-01T10:00:00.500", "2024-01-01T11:00:00.000"},
		{"mixed", DateRange{Bounds: []string{"2024-01-01", "2024-01-02T06:00:00.000"}}, "2024-01-01T00:00:00.000", "2024-01-02T06:00:00.000"},
		{"offsets shift to UTC", DateRange{Bounds: []string{"2024-01-01T00:00:00+05:30", "2024-01-01 10:00:00z"}}, "2023-12-31T18:30:00.000", "2024-01-01T10:00:00.000"},
		{"compact offset", DateRange{Bounds: []string{"2024-01-01T20:00:00-0800", "2024-01-03T00:00:00+01"}}, "2024-01-02T04:00:00.000", "2024-01-02T23:00:00.000"},
		{"same day", DateRange{Bounds: []string{"2024-01-01", "2024-01-01"}}, "2024-01-01T00:00:00.000", "2024-01-01T23:59:59.999"},
		{"relative string", DateRange{Relative: "last week"}, "2024-03-04T00:00:00.000", "2024-03-10T23:59:59.999"},
		{"relative in a one-element array", DateRange{Bounds: []string{"last week"}}, "2024-03-04T00:00:00.000", "2024-03-10T23:59:59.999"},
		{"leap day", DateRange{Bounds: []string{"2024-02-29", "2024-02-29"}}, "2024-02-29T00:00:00.000", "2024-02-29T23:59:59.999"},
	}
	now := mustTime(t, testNow)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveDateRange(tt.in, now)
			if err != nil {
				t.Fatal(err)
			}
			if want := (Range{tt.from, tt.to}); got != want {
				t.Errorf("got  %v\nwant %v", got, want)
			}
		})
	}
}

func TestResolveDateRangeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   DateRange
		want string
	}{
		{"impossible day", DateRange{Bounds: []string{"2024-02-30", "2024-03-01"}}, "Can't parse date: '2024-02-30'"},
		{"relative in a pair", DateRange{Bounds: []string{"2024-01-01", "last week"}}, "Can't parse date: 'last week' (a date range array takes absolute dates"},
		{"inverted", DateRange{Bounds: []string{"2024-02-01", "2024-01-01"}}, "Invalid date range '2024-02-01 - 2024-01-01': it starts at 2024-02-01T00:00:00.000, after it ends at 2024-01-01T23:59:59.999"},
		{"hour 24", DateRange{Bounds: []string{"2024-01-01T24:00", "2024-01-02"}}, "Can't parse date: '2024-01-01T24:00'"},
		{"minute 60", DateRange{Bounds: []string{"2024-01-01T10:60", "2024-01-02"}}, "Can't parse date"},
		{"second 60", DateRange{Bounds: []string{"2024-01-01T10:00:60", "2024-01-02"}}, "Can't parse date"},
		{"short date", DateRange{Bounds: []string{"2024-1-1", "2024-01-02"}}, "Can't parse date: '2024-1-1'"},
		{"no dashes", DateRange{Bounds: []string{"20240101", "2024-01-02"}}, "Can't parse date"},
		{"hour only", DateRange{Bounds: []string{"2024-01-01T10", "2024-01-02"}}, "Can't parse date"},
		{"seven-digit fraction", DateRange{Bounds: []string{"2024-01-01T10:00:00.1234567", "2024-01-02"}}, "Can't parse date"},
		{"empty fraction", DateRange{Bounds: []string{"2024-01-01T10:00:00.", "2024-01-02"}}, "Can't parse date"},
		{"one-digit offset", DateRange{Bounds: []string{"2024-01-01T10:00+5", "2024-01-02"}}, "Can't parse date"},
		{"offset hour 24", DateRange{Bounds: []string{"2024-01-01T10:00+24:00", "2024-01-02"}}, "Can't parse date"},
		{"dangling colon", DateRange{Bounds: []string{"2024-01-01T10:00+05:", "2024-01-02"}}, "Can't parse date"},
		{"year zero", DateRange{Bounds: []string{"0000-01-01", "2024-01-02"}}, "Can't parse date: '0000-01-01'"},
		{"offset before year one", DateRange{Bounds: []string{"0001-01-01T00:00+01:00", "2024-01-02"}}, "outside the years 0001-9999"},
		{"both forms", DateRange{Relative: "today", Bounds: []string{"2024-01-01"}}, "either a string or an array"},
		{"three dates", DateRange{Bounds: []string{"2024-01-01", "2024-01-02", "2024-01-03"}}, "one or two dates, got 3"},
		{"garbage", DateRange{Relative: "someday"}, "Can't parse date: 'someday'"},
	}
	now := mustTime(t, testNow)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := resolveDateRange(tt.in, now)
			if err == nil {
				t.Fatalf("accepted: %v", r)
			}
			wantInvalid(t, err, tt.want)
		})
	}
}

func TestRangeUTC(t *testing.T) {
	tests := []struct {
		name, tz string
		r        Range
		from, to string
	}{
		{"UTC day", "UTC", Range{"2024-01-01T00:00:00.000", "2024-01-01T23:59:59.999"}, "2024-01-01T00:00:00Z", "2024-01-01T23:59:59.999999Z"},
		{"Kolkata day", "Asia/Kolkata", Range{"2024-01-01T00:00:00.000", "2024-01-01T23:59:59.999"}, "2023-12-31T18:30:00Z", "2024-01-01T18:29:59.999999Z"},
		{"New York winter", "America/New_York", Range{"2024-01-01T00:00:00.000", "2024-01-01T23:59:59.999"}, "2024-01-01T05:00:00Z", "2024-01-02T04:59:59.999999Z"},
		// 2024-03-10 has 23 hours in New York, 2024-11-03 has 25.
		{"spring-forward day", "America/New_York", Range{"2024-03-10T00:00:00.000", "2024-03-10T23:59:59.999"}, "2024-03-10T05:00:00Z", "2024-03-11T03:59:59.999999Z"},
		{"fall-back day", "America/New_York", Range{"2024-11-03T00:00:00.000", "2024-11-03T23:59:59.999"}, "2024-11-03T04:00:00Z", "2024-11-04T04:59:59.999999Z"},
		// The repeated hour: the start takes the first 01:00 (EDT), the end the last 01:59 (EST).
		{"repeated hour", "America/New_York", Range{"2024-11-03T01:00:00.000", "2024-11-03T01:59:59.999"}, "2024-11-03T05:00:00Z", "2024-11-03T06:59:59.999999Z"},
		// A wall clock in the skipped hour is the jump itself (an end: just before it).
		{"skipped hour", "America/New_York", Range{"2024-03-10T02:30:00.000", "2024-03-10T02:45:00.000"}, "2024-03-10T07:00:00Z", "2024-03-10T06:59:59.999999Z"},
		{"into the skipped hour", "America/New_York", Range{"2024-03-10T01:00:00.000", "2024-03-10T02:59:59.999"}, "2024-03-10T06:00:00Z", "2024-03-10T06:59:59.999999Z"},
		// Samoa skipped 2011-12-30 entirely.
		{"skipped day", "Pacific/Apia", Range{"2011-12-30T00:00:00.000", "2011-12-30T23:59:59.999"}, "2011-12-30T10:00:00Z", "2011-12-30T09:59:59.999999Z"},
		// Santiago skips midnight: the day starts at the jump.
		{"skipped midnight", "America/Santiago", Range{"2024-09-08T00:00:00.000", "2024-09-08T23:59:59.999"}, "2024-09-08T04:00:00Z", "2024-09-09T02:59:59.999999Z"},
		{"exact end kept", "UTC", Range{"2024-01-01T10:00:00.000", "2024-01-01T10:00:00.500"}, "2024-01-01T10:00:00Z", "2024-01-01T10:00:00.5Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to, err := tt.r.UTC(mustLoc(t, tt.tz))
			if err != nil {
				t.Fatal(err)
			}
			if got := from.UTC().Format(time.RFC3339Nano); got != tt.from {
				t.Errorf("from = %s, want %s", got, tt.from)
			}
			if got := to.UTC().Format(time.RFC3339Nano); got != tt.to {
				t.Errorf("to = %s, want %s", got, tt.to)
			}
		})
	}
	if _, _, err := (Range{"2024-01-01", "2024-01-02"}).UTC(time.UTC); err == nil {
		t.Error("accepted a bound without a time")
	} else {
		wantInvalid(t, err, "want YYYY-MM-DDTHH:mm:ss.SSS")
	}
	if _, _, err := (Range{"2024-01-01T00:00:00.000", "x"}).UTC(time.UTC); err == nil {
		t.Error("accepted a bad end")
	}
}

func TestRangeString(t *testing.T) {
	r := Range{"2024-01-01T00:00:00.000", "2024-01-31T23:59:59.999"}
	if got, want := r.String(), "2024-01-01T00:00:00.000 - 2024-01-31T23:59:59.999"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
