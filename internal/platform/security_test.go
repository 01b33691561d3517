package platform_test

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/platform"
)

func TestParseSecurity(t *testing.T) {
	good := []struct {
		in   string
		want platform.Security
	}{
		{``, platform.Security{IPAllowList: []string{}}},
		{`{}`, platform.Security{IPAllowList: []string{}}},
		{`{"ip_allow_list": ["10.0.0.0/8", "127.0.0.1", "10.1.2.3/8", "2001:db8::1", "::ffff:192.168.1.0/120"],
		  "rate_limit": {"requests_per_second": 50, "burst": 100}, "token_lifetime": "1h30m"}`,
			platform.Security{
				// Bare IPs become single-address CIDRs, host bits are cleared, duplicates go,
				// IPv4-in-IPv6 becomes IPv4.
				IPAllowList:   []string{"10.0.0.0/8", "127.0.0.1/32", "2001:db8::1/128", "192.168.1.0/24"},
				RateLimit:     platform.RateLimit{RequestsPerSecond: 50, Burst: 100},
				TokenLifetime: "1h30m",
			}},
		{`{"rate_limit": {"requests_per_second": 0.5, "burst": 1}}`,
			platform.Security{IPAllowList: []string{}, RateLimit: platform.RateLimit{RequestsPerSecond: 0.5, Burst: 1}}},
	}
	for _, c := range good {
		got, err := platform.ParseSecurity([]byte(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		// Compare through the exported fields only (the parsed prefixes are private).
		if !reflect.DeepEqual(got.IPAllowList, c.want.IPAllowList) || got.RateLimit != c.want.RateLimit ||
			got.TokenLifetime != c.want.TokenLifetime {
			t.Errorf("%s:\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}

	bad := []struct{ in, mention string }{
		{`{"ip_allow_list": ["10.0.0.0/33"]}`, `ip_allow_list: "10.0.0.0/33"`},
		{`{"ip_allow_list": ["localhost"]}`, `ip_allow_list: "localhost"`},
		{`{"ip_allow_list": ["fe80::1%eth0"]}`, `"fe80::1%eth0"`},
		{`{"rate_limit": {"requests_per_second": -1, "burst": 5}}`, "rate_limit.requests_per_second -1"},
		{`{"rate_limit": {"requests_per_second": 5}}`, "rate_limit.burst 0 must be at least 1"},
		{`{"rate_limit": {"requests_per_second": 5, "burst": -2}}`, "rate_limit.burst -2"},
		{`{"rate_limit": {"burst": 5}}`, "rate_limit.burst 5 needs requests_per_second"},
		{`{"token_lifetime": "30d"}`, `token_lifetime "30d"`},
		{`{"token_lifetime": "-1h"}`, `token_lifetime "-1h"`},
		{`{"token_lifetime": "0s"}`, `token_lifetime "0s"`},
		{`{"ip_allowlist": []}`, `unknown field "ip_allowlist"`},
		{`{"rate_limit": {"rps": 1}}`, `unknown field "rps"`},
		{`{} {}`, "after the JSON object"},
		{`[]`, "security settings"},
	}
	for _, c := range bad {
		_, err := platform.ParseSecurity([]byte(c.in))
		if errs.KindOf(err) != errs.KindInvalid {
			t.Errorf("%s: %v, want an invalid error", c.in, err)
			continue
		}
		mustKind(t, err, errs.KindInvalid, c.mention)
	}
}

func TestSecurityAllows(t *testing.T) {
	sec, err := platform.ParseSecurity([]byte(`{"ip_allow_list": ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]}`))
	if err != nil {
		t.Fatal(err)
	}
	// A Security built by hand (not parsed) must decide the same.
	byHand := platform.Security{IPAllowList: []string{"10.0.0.0/8", "2001:db8::/32", "192.0.2.7", "garbage"}}
	for addr, want := range map[string]bool{
		"10.1.2.3": true, "::ffff:10.1.2.3": true, "11.0.0.1": false,
		"2001:db8::5": true, "2001:db9::5": false, "192.0.2.7": true, "192.0.2.8": false,
		"fe80::1%eth0": false, "127.0.0.1": false,
	} {
		a := netip.MustParseAddr(addr)
		if got := sec.Allows(a); got != want {
			t.Errorf("parsed: Allows(%s) = %v, want %v", addr, got, want)
		}
		if got := byHand.Allows(a); got != want {
			t.Errorf("by hand: Allows(%s) = %v, want %v", addr, got, want)
		}
	}
	if !(platform.Security{}).Allows(netip.MustParseAddr("203.0.113.1")) {
		t.Error("an empty allow-list must allow every address")
	}
}

func TestSecurityLifetime(t *testing.T) {
	if platform.DefaultTokenLifetime != 720*time.Hour {
		t.Errorf("default lifetime %v, want 30 days", platform.DefaultTokenLifetime)
	}
	if got := (platform.Security{}).Lifetime(); got != platform.DefaultTokenLifetime {
		t.Errorf("default lifetime %v", got)
	}
	if got := (platform.Security{TokenLifetime: "2h"}).Lifetime(); got != 2*time.Hour {
		t.Errorf("lifetime %v, want 2h", got)
	}
}
