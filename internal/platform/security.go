package platform

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
)

// DefaultTokenLifetime is how long a REST token lasts when a deployment's security settings
// do not say.
const DefaultTokenLifetime = 30 * 24 * time.Hour

// Security is a deployment's security settings, the JSON of GET/PUT .../security:
//
//	{"ip_allow_list": ["10.0.0.0/8", "127.0.0.1/32"],
//	 "rate_limit": {"requests_per_second": 50, "burst": 100},
//	 "token_lifetime": "720h"}
//
// The allow-list applies to the REST and the SQL API alike; the rate limit applies per
// token and per client address. A Security from ParseSecurity (or returned by the Keeper)
// is normalised: CIDRs in canonical form, no duplicates, never a nil list.
type Security struct {
	// IPAllowList holds CIDRs; a bare IP means that one address. Empty allows every address.
	IPAllowList []string `json:"ip_allow_list"`
	// RateLimit's zero value is unlimited.
	RateLimit RateLimit `json:"rate_limit"`
	// TokenLifetime is a Go duration; "" means DefaultTokenLifetime. It applies to tokens
	// made after it is set: a token keeps the expiry it was made with.
	TokenLifetime string `json:"token_lifetime"`

	// prefixes is IPAllowList parsed, so that Allows, called on every request, parses
	// nothing. It is nil for a Security built by hand, and Allows then parses the list.
	prefixes []netip.Prefix
}

// RateLimit is a token bucket: RequestsPerSecond refill it, Burst is its size.
type RateLimit struct {
	RequestsPerSecond float64 `json:"requests_per_second"`
	Burst             int     `json:"burst"`
}

// Unlimited reports whether r limits nothing.
func (r RateLimit) Unlimited() bool { return r.RequestsPerSecond == 0 }

// ParseSecurity decodes and checks security settings. Unknown fields, a bad CIDR, a
// negative rate, a burst below 1 with a rate (or a burst without one) and a bad or
// non-positive lifetime are errs.KindInvalid naming the field and the value. Empty input
// is the zero Security: no restriction, default lifetime.
func ParseSecurity(raw []byte) (Security, error) {
	var s Security
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return Security{}, errs.Wrap(errs.KindInvalid, err, "security settings: %v", err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return Security{}, errs.Invalid("security settings: unexpected data after the JSON object")
		}
	}
	return s.normalize()
}

// normalize checks s and returns it in canonical form.
func (s Security) normalize() (Security, error) {
	out := Security{IPAllowList: []string{}, RateLimit: s.RateLimit, TokenLifetime: strings.TrimSpace(s.TokenLifetime)}
	seen := map[netip.Prefix]bool{}
	for _, entry := range s.IPAllowList {
		p, err := parseAllowed(entry)
		if err != nil {
			return Security{}, err
		}
		if !seen[p] {
			seen[p] = true
			out.prefixes = append(out.prefixes, p)
			out.IPAllowList = append(out.IPAllowList, p.String())
		}
	}
	r := s.RateLimit
	switch {
	case math.IsNaN(r.RequestsPerSecond) || math.IsInf(r.RequestsPerSecond, 0) || r.RequestsPerSecond < 0:
		return Security{}, errs.Invalid("rate_limit.requests_per_second %v must be a positive number (or 0 for no limit)", r.RequestsPerSecond)
	case r.RequestsPerSecond > 0 && r.Burst < 1:
		return Security{}, errs.Invalid("rate_limit.burst %d must be at least 1 when requests_per_second is set", r.Burst)
	case r.RequestsPerSecond == 0 && r.Burst != 0:
		return Security{}, errs.Invalid("rate_limit.burst %d needs requests_per_second (0 means no limit)", r.Burst)
	}
	if out.TokenLifetime != "" {
		d, err := time.ParseDuration(out.TokenLifetime)
		if err != nil || d <= 0 {
			return Security{}, errs.Invalid("token_lifetime %q must be a positive duration such as \"720h\" (or empty for %v)",
				s.TokenLifetime, DefaultTokenLifetime)
		}
	}
	return out, nil
}

// parseAllowed reads one entry of ip_allow_list: a CIDR, or an IP meaning that address
// alone. Host bits are cleared ("10.1.2.3/8" is "10.0.0.0/8"), and an IPv4 address written
// as IPv6 ("::ffff:10.0.0.1") is taken as IPv4, as Allows sees clients.
func parseAllowed(entry string) (netip.Prefix, error) {
	entry = strings.TrimSpace(entry)
	if p, err := netip.ParsePrefix(entry); err == nil {
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(entry); err == nil && a.Zone() == "" {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.Prefix{}, errs.Invalid("ip_allow_list: %q is not a CIDR (such as \"10.0.0.0/8\") or an IP address", entry)
}

// Allows reports whether a client at addr may use the deployment. An empty allow-list
// allows every address. An IPv4 client seen through an IPv6 socket (::ffff:a.b.c.d)
// matches IPv4 entries.
func (s Security) Allows(addr netip.Addr) bool {
	if len(s.IPAllowList) == 0 {
		return true
	}
	addr = addr.Unmap().WithZone("")
	prefixes := s.prefixes
	if prefixes == nil {
		for _, e := range s.IPAllowList {
			// An entry that does not parse allows nothing: failing closed.
			if p, err := parseAllowed(e); err == nil {
				prefixes = append(prefixes, p)
			}
		}
	}
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Lifetime is how long a new REST token of the deployment lasts.
func (s Security) Lifetime() time.Duration {
	if d, err := time.ParseDuration(s.TokenLifetime); err == nil && d > 0 {
		return d
	}
	return DefaultTokenLifetime
}
