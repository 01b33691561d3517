package platform_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"
	_ "time/tzdata" // the zones these tests use exist on every host

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/platform"
	"github.com/cubit-dev/cubit/internal/platform/gitrepo"
	"github.com/cubit-dev/cubit/internal/store"
)

const officeHours = `{"mode":"scheduled","schedule":[{"start":"0 8 * * 1-5","end":"0 20 * * 1-5"}],"timezone":"Europe/Berlin"}`

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func mustSchedule(t *testing.T, raw string) *platform.Schedule {
	t.Helper()
	c, err := platform.ParseConfig(json.RawMessage(raw))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != platform.ModeScheduled || c.Schedule == nil {
		t.Fatalf("%s: parsed %+v", raw, c)
	}
	return c.Schedule
}

func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestScheduleWindowAcrossDST checks office hours in Berlin against a hand-written
// predicate every 10 minutes around both 2026 clock changes (March 29, October 25), and
// pins the instants where the UTC time of the edges moves.
func TestScheduleWindowAcrossDST(t *testing.T) {
	s := mustSchedule(t, officeHours)
	loc := berlin(t)
	if s.Location.String() != "Europe/Berlin" {
		t.Fatalf("location %v", s.Location)
	}
	want := func(at time.Time) bool {
		l := at.In(loc)
		return l.Weekday() >= time.Monday && l.Weekday() <= time.Friday && l.Hour() >= 8 && l.Hour() < 20
	}
	for _, span := range [][2]time.Time{
		{time.Date(2026, 3, 25, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 10, 21, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 29, 0, 0, 0, 0, time.UTC)},
	} {
		for at := span[0]; at.Before(span[1]); at = at.Add(10 * time.Minute) {
			if got := s.Open(at); got != want(at) {
				t.Fatalf("Open(%s = %s Berlin) = %v, want %v", at.Format(time.RFC3339), at.In(loc).Format("Mon 15:04 MST"), got, want(at))
			}
		}
	}
	// The same UTC instant of day is outside before the change and inside after it.
	for _, c := range []struct {
		at   time.Time
		open bool
	}{
		{time.Date(2026, 3, 27, 6, 30, 0, 0, time.UTC), false},  // Friday 07:30 CET
		{time.Date(2026, 3, 30, 6, 30, 0, 0, time.UTC), true},   // Monday 08:30 CEST
		{time.Date(2026, 3, 27, 18, 30, 0, 0, time.UTC), true},  // Friday 19:30 CET
		{time.Date(2026, 3, 30, 18, 30, 0, 0, time.UTC), false}, // Monday 20:30 CEST
		{time.Date(2026, 3, 30, 6, 0, 0, 0, time.UTC), true},    // Monday 08:00 CEST: the start is inside
		{time.Date(2026, 3, 30, 18, 0, 0, 0, time.UTC), false},  // Monday 20:00 CEST: the end is outside
		{time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), false},  // Saturday
	} {
		if got := s.Open(c.at); got != c.open {
			t.Errorf("Open(%s) = %v, want %v", c.at.In(loc).Format("Mon Jan 2 15:04 MST"), got, c.open)
		}
	}
}

func TestScheduleLongWindows(t *testing.T) {
	loc := time.UTC
	// Friday 22:00 to Monday 06:00, over the weekend.
	weekend := mustSchedule(t, `{"mode":"scheduled","schedule":[{"start":"0 22 * * 5","end":"0 6 * * 1"}]}`)
	// The 1st to the 20th of every month: the start is up to 30 days back.
	monthly := mustSchedule(t, `{"mode":"scheduled","schedule":[{"start":"0 0 1 * *","end":"0 0 20 * *"}]}`)
	// Two windows: either one opens the deployment.
	split := mustSchedule(t, `{"mode":"scheduled","schedule":[{"start":"0 8 * * *","end":"0 12 * * *"},{"start":"0 14 * * *","end":"0 18 * * *"}]}`)
	for _, c := range []struct {
		name string
		s    *platform.Schedule
		at   time.Time
		open bool
	}{
		{"weekend/friday-evening", weekend, time.Date(2026, 3, 6, 23, 0, 0, 0, loc), true},
		{"weekend/sunday", weekend, time.Date(2026, 3, 8, 12, 0, 0, 0, loc), true},
		{"weekend/monday-early", weekend, time.Date(2026, 3, 9, 5, 59, 0, 0, loc), true},
		{"weekend/monday-late", weekend, time.Date(2026, 3, 9, 6, 0, 0, 0, loc), false},
		{"weekend/wednesday", weekend, time.Date(2026, 3, 11, 12, 0, 0, 0, loc), false},
		{"monthly/15th", monthly, time.Date(2026, 3, 15, 12, 0, 0, 0, loc), true},
		{"monthly/19th", monthly, time.Date(2026, 3, 19, 23, 59, 0, 0, loc), true},
		{"monthly/25th", monthly, time.Date(2026, 3, 25, 12, 0, 0, 0, loc), false},
		{"monthly/31st", monthly, time.Date(2026, 3, 31, 12, 0, 0, 0, loc), false},
		{"split/morning", split, time.Date(2026, 3, 2, 9, 0, 0, 0, loc), true},
		{"split/lunch", split, time.Date(2026, 3, 2, 13, 0, 0, 0, loc), false},
		{"split/afternoon", split, time.Date(2026, 3, 2, 15, 0, 0, 0, loc), true},
		{"split/night", split, time.Date(2026, 3, 2, 22, 0, 0, 0, loc), false},
	} {
		if got := c.s.Open(c.at); got != c.open {
			t.Errorf("%s: Open(%s) = %v, want %v", c.name, c.at.Format(time.RFC3339), got, c.open)
		}
	}
}

// TestScheduleStartsAndStops follows office hours over two days, with a manual stop
// inside the first window: it holds until the next window opens.
func TestScheduleStartsAndStops(t *testing.T) {
	f := setup(t, officeHours)
	loc := berlin(t)
	at := func(day, hour, min int) { f.clock.Set(time.Date(2026, 3, day, hour, min, 0, 0, loc)) }

	at(2, 7, 0) // Monday before the window: never deployed, nothing happens
	f.m.Schedule(ctx)
	if n := f.rt.builds(); n != 0 {
		t.Fatalf("%d builds before the window", n)
	}
	at(2, 8, 0) // the window opens
	f.m.Schedule(ctx)
	v := f.head()
	f.wantState("shop", store.StateRunning, v)
	inst := f.rt.built[0]
	at(2, 12, 0) // inside: nothing more
	f.m.Schedule(ctx)
	if n := f.rt.builds(); n != 1 {
		t.Fatalf("%d builds, want 1", n)
	}

	// A manual stop inside the window is respected.
	if err := f.m.Stop(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	at(2, 13, 0)
	f.m.Schedule(ctx)
	f.wantState("shop", store.StateStopped, v)
	if inst.closed() != 1 {
		t.Fatalf("stopped instance closed %d times", inst.closed())
	}
	at(2, 20, 0) // the window closes: already stopped
	f.m.Schedule(ctx)
	f.wantState("shop", store.StateStopped, v)
	at(3, 8, 5) // Tuesday's window opens
	f.m.Schedule(ctx)
	f.wantState("shop", store.StateRunning, v)
	if n := f.rt.builds(); n != 2 {
		t.Fatalf("%d builds, want 2", n)
	}
	inst = f.rt.built[1]

	at(3, 20, 0) // and closes
	f.m.Schedule(ctx)
	f.wantState("shop", store.StateStopped, v)
	if inst.closed() != 1 {
		t.Fatalf("instance closed %d times at the window's end", inst.closed())
	}

	// A manual start outside the window runs until the next window closes.
	at(3, 22, 0)
	if err := f.m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	at(4, 7, 0)
	f.m.Schedule(ctx)
	f.wantState("shop", store.StateRunning, v)
	at(4, 9, 0) // Wednesday's window opens: already running, nothing is built
	f.m.Schedule(ctx)
	if n := f.rt.builds(); n != 3 {
		t.Fatalf("%d builds, want 3", n)
	}
	at(4, 20, 1)
	f.m.Schedule(ctx)
	f.wantState("shop", store.StateStopped, v)
}

// TestScheduleSkipsOtherModes: Schedule does not touch a deployment of another mode.
func TestScheduleSkipsOtherModes(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	f.addProject("nightly", `{"mode":"scheduled","schedule":[{"start":"0 1 * * *","end":"0 5 * * *"}]}`)
	if err := f.m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)) // outside nightly's window
	f.m.Schedule(ctx)
	f.wantState("shop", store.StateRunning, f.head())
	if n := f.rt.builds(); n != 1 {
		t.Fatalf("%d builds, want 1", n)
	}
	f.clock.Set(time.Date(2026, 3, 3, 1, 0, 0, 0, time.UTC))
	f.m.Schedule(ctx)
	f.wantState("nightly", store.StateRunning, f.head())
	f.wantState("shop", store.StateRunning, f.head())
}

// TestStartAllScheduled boots a second Manager: a scheduled deployment inside its window
// is started even though it was stopped, and one outside is recorded STOPPED.
func TestStartAllScheduled(t *testing.T) {
	f := setup(t, officeHours)
	f.addProject("late", `{"mode":"scheduled","schedule":[{"start":"0 22 * * *","end":"0 23 * * *"}],"timezone":"Europe/Berlin"}`)
	f.addProject("fresh", officeHours)
	loc := berlin(t)
	f.clock.Set(time.Date(2026, 3, 2, 22, 30, 0, 0, loc))
	f.m.Schedule(ctx)
	f.wantState("late", store.StateRunning, f.head())
	if err := f.m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	if err := f.m.Stop(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	if err := f.m.Close(); err != nil {
		t.Fatal(err)
	}

	f.clock.Set(time.Date(2026, 3, 3, 9, 0, 0, 0, loc)) // inside office hours, outside late's window
	f.m = f.manager()
	before := f.rt.builds()
	if err := f.m.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	v := f.head()
	f.wantState("shop", store.StateRunning, v)  // inside: started though stopped by hand
	f.wantState("fresh", store.StateRunning, v) // never deployed: main started
	f.wantState("late", store.StateStopped, v)  // outside: nothing serves it after the restart
	if got := f.rt.builds() - before; got != 2 {
		t.Fatalf("StartAll built %d instances, want 2", got)
	}
	// StartAll counts as the schedule's action: the next round changes nothing.
	f.m.Schedule(ctx)
	if got := f.rt.builds() - before; got != 2 {
		t.Fatalf("Schedule after StartAll built %d more", got-2)
	}
}

// TestRunSchedules: Run's rounds include Schedule.
func TestRunSchedules(t *testing.T) {
	f := setup(t, `{"mode":"scheduled","schedule":[{"start":"0 0 * * *","end":"0 23 * * *"}]}`)
	f.clock.Set(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	m := platform.NewManager(platform.Options{Store: f.store, Runtime: f.rt, Clock: f.clock.Now,
		HeartbeatInterval: time.Millisecond, Repos: func(string) (*gitrepo.Repo, error) { return f.repo, nil }})
	defer m.Close()
	release := f.rt.block()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { m.Run(runCtx); close(done) }()
	if got := <-f.rt.started; got != f.head() {
		t.Errorf("Run's schedule built %s, want %s", got, f.head())
	}
	cancel()
	release()
	<-done
}

func TestParseScheduledConfig(t *testing.T) {
	ok := mustSchedule(t, `{"mode":"scheduled","schedule":[{"start":"0 8 * * 1-5","end":"0 20 * * 1-5"}]}`)
	if ok.Location != time.UTC || len(ok.Windows) != 1 || ok.Windows[0].Start != "0 8 * * 1-5" || ok.Windows[0].End != "0 20 * * 1-5" {
		t.Errorf("parsed %+v", ok)
	}
	for _, c := range []struct{ in, err string }{
		{`{"mode":"scheduled"}`, `needs "schedule"`},
		{`{"mode":"scheduled","schedule":[]}`, `needs "schedule"`},
		{`{"mode":"scheduled","schedule":[{"start":"0 8 * * *"}]}`, `schedule[0].end is missing`},
		{`{"mode":"scheduled","schedule":[{"end":"0 8 * * *"}]}`, `schedule[0].start is missing`},
		{`{"mode":"scheduled","schedule":[{"start":"0 25 * * *","end":"0 20 * * *"}]}`, `schedule[0].start "0 25 * * *" is not a cron expression of 5 fields (minute hour day-of-month month day-of-week): end of range (25) above maximum (23)`},
		{`{"mode":"scheduled","schedule":[{"start":"0 8 * * *","end":"0 20 * *"}]}`, `schedule[0].end "0 20 * *" is not a cron expression`},
		{`{"mode":"scheduled","schedule":[{"start":"0 8 * * *","end":"0 9 * * *"},{"start":"0 8 * * *","end":"soon"}]}`, `schedule[1].end "soon"`},
		{`{"mode":"scheduled","schedule":[{"start":"@daily","end":"0 20 * * *"}]}`, `schedule[0].start "@daily"`},
		{`{"mode":"scheduled","schedule":[{"start":"@every 1h","end":"0 20 * * *"}]}`, `schedule[0].start "@every 1h"`},
		{`{"mode":"scheduled","schedule":[{"start":"CRON_TZ=Asia/Tokyo 0 8 * * *","end":"0 20 * * *"}]}`, `give the time zone in "timezone"`},
		{`{"mode":"scheduled","schedule":[{"start":"0 0 30 2 *","end":"0 20 * * *"}]}`, `schedule[0].start "0 0 30 2 *" never fires`},
		{`{"mode":"scheduled","schedule":[{"start":"0 8 * * *","end":"0  8 * * *"}]}`, `start and end are the same`},
		{`{"mode":"scheduled","schedule":[{"start":"0 8 * * *","end":"0 20 * * *"}],"timezone":"Europe/Berln"}`, `unknown timezone "Europe/Berln"`},
		{`{"mode":"scheduled","schedule":[{"start":"0 8 * * *","end":"0 20 * * *"}],"timezone":"Local"}`, `unknown timezone "Local"`},
		{`{"mode":"scheduled","schedule":[{"start":"0 8 * * *","end":"0 20 * * *","every":"1h"}]}`, `unknown field "every"`},
		{`{"mode":"always_on","schedule":[{"start":"0 8 * * *","end":"0 20 * * *"}]}`, `not always_on`},
		{`{"mode":"on_demand","timezone":"UTC"}`, `not on_demand`},
		{`{"schedule":[]}`, `not always_on`},
	} {
		_, err := platform.ParseConfig(json.RawMessage(c.in))
		if err == nil {
			t.Errorf("%s: no error, want %q", c.in, c.err)
			continue
		}
		wantKind(t, err, errs.KindInvalid, c.err)
	}
}
