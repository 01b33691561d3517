package refreshkey

import (
	"testing"
	"time"
)

func TestParseAndBucket(t *testing.T) {
	for in, want := range map[string]time.Duration{"1 hour": time.Hour, "2 hours 30 minutes": 150 * time.Minute, "1 week": 7 * 24 * time.Hour} {
		if d, ok := ParseInterval(in); !ok || d != want {
			t.Errorf("ParseInterval(%q) = %v, %v; want %v", in, d, ok, want)
		}
	}
	for _, bad := range []string{"", "hour", "1 fortnight", "-1 hour", "0 seconds"} {
		if _, ok := ParseInterval(bad); ok {
			t.Errorf("ParseInterval(%q) accepted", bad)
		}
	}
	at := time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)
	hourly, _ := Parse("1 hour", nil)
	if hourly.Bucket(at) != hourly.Bucket(at.Add(29*time.Minute)) || hourly.Bucket(at) == hourly.Bucket(at.Add(30*time.Minute)) {
		t.Error("an hourly bucket does not change exactly on the hour")
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	daily, ok := Parse("0 8 * * *", berlin)
	if !ok {
		t.Fatal("a cron expression did not parse")
	}
	// 08:00 in Berlin on the day clocks go forward is 06:00 UTC.
	if got := daily.Next(at); !got.Equal(time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("next 08:00 Berlin after %s = %s", at, got.UTC())
	}
	if _, ok := Parse("0 8 L * *", nil); ok {
		t.Error("a cron feature the library lacks parsed")
	}
}
