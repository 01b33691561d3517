package platform

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// Generated names and passwords never need escaping, so the escaping is tested here on
// values made to break a careless URL.
func TestConnectionStringEscapes(t *testing.T) {
	for _, c := range []SQLCredentials{
		{Host: "db.example.com", Port: 5432, Database: "shop", Username: "shop_main", Password: "plain"},
		{Host: "127.0.0.1", Port: 15432, Database: "my db/x?y", Username: "us:er@x", Password: `p@ss:w/o?r#d%20&=+ 'q"\é`},
		{Host: "::1", Port: 15432, Database: "d", Username: "u", Password: "-._~"},
	} {
		for _, tls := range []bool{false, true} {
			s := connectionString(c, tls)
			cfg, err := pgconn.ParseConfig(s)
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			if cfg.User != c.Username || cfg.Password != c.Password || cfg.Database != c.Database ||
				cfg.Host != c.Host || int(cfg.Port) != c.Port {
				t.Fatalf("%s parses to user=%q password=%q db=%q host=%q port=%d, want %+v",
					s, cfg.User, cfg.Password, cfg.Database, cfg.Host, cfg.Port, c)
			}
			if (cfg.TLSConfig != nil) != tls {
				t.Fatalf("%s: TLS %v, want %v", s, cfg.TLSConfig != nil, tls)
			}
		}
	}
}

func TestSQLNames(t *testing.T) {
	for in, want := range map[string]string{
		"shop": "shop", "Shop": "shop", "feature/Login-Page": "feature_login_page", "--a--b--": "a_b",
		"été": "t", "日本": "x", "a_b": "a_b",
	} {
		if got := sqlName(in); got != want {
			t.Errorf("sqlName(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("a", 40)
	if got := sqlUsername(long, long, "_zzzzz"); len(got) != 63 || !strings.HasSuffix(got, "_zzzzz") {
		t.Errorf("long username %q (%d bytes)", got, len(got))
	}
	// A cut never leaves "__" before the suffix.
	if got := sqlUsername(strings.Repeat("a", 56), "b", "_zzzzz"); strings.Contains(got, "__") || len(got) > 63 {
		t.Errorf("username %q", got)
	}
	if got := sqlDatabase(strings.Repeat("a", 70)); len(got) != 63 {
		t.Errorf("database %q (%d bytes)", got, len(got))
	}
}

func TestSplitToken(t *testing.T) {
	tok, id := newToken(tokenPrefix)
	if got, ok := splitToken(tokenPrefix, tok); !ok || got != id {
		t.Fatalf("splitToken(%q) = %q, %v; want %q", tok, got, ok, id)
	}
	if _, ok := splitToken(adminTokenPrefix, tok); ok {
		t.Fatal("a REST token passed as an admin token")
	}
}
