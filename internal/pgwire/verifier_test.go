package pgwire

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/xdg-go/scram"
)

// makeVerifier formats a SCRAM-SHA-256 verifier for password the way PostgreSQL stores
// one, with keys computed by xdg-go/scram's client rather than by the code under test.
func makeVerifier(t testing.TB, password string, iters int) string {
	t.Helper()
	client, err := scram.SHA256.NewClient("", password, "")
	if err != nil {
		t.Fatal(err)
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	cred, err := client.GetStoredCredentialsWithError(scram.KeyFactors{Salt: string(salt), Iters: iters})
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iters, b64(salt), b64(cred.StoredKey), b64(cred.ServerKey))
}

// verifierHandler is fakeHandler with every password stored as a SCRAM verifier, or as
// the fixed text of override when one is set for the user.
type verifierHandler struct {
	*fakeHandler
	verifiers map[string]string
}

func newVerifierHandler(t testing.TB, override map[string]string) *verifierHandler {
	h := &verifierHandler{fakeHandler: newFakeHandler(), verifiers: map[string]string{}}
	for user, pw := range h.users {
		// Not PostgreSQL's default 4096, to show the verifier's count is the one used.
		h.verifiers[user] = makeVerifier(t, pw, 1000)
	}
	for user, v := range override {
		h.verifiers[user] = v
	}
	return h
}

func (h *verifierHandler) Password(ctx context.Context, user, database string) (string, error) {
	if v, ok := h.verifiers[user]; ok {
		return v, nil
	}
	return h.fakeHandler.Password(ctx, user, database)
}

func TestVerifierLogin(t *testing.T) {
	tlsCfg := selfSignedTLS(t)
	cases := []struct {
		name   string
		opt    Options
		sslm   string
		method string // logged by the server
	}{
		{"scram", Options{}, "sslmode=disable", "SCRAM-SHA-256"},
		{"scram-plus-over-tls", Options{TLSConfig: tlsCfg}, "sslmode=require", "SCRAM-SHA-256-PLUS"},
		{"cleartext-over-tls", Options{AuthMethod: AuthPassword, TLSConfig: tlsCfg}, "sslmode=require", "password"},
		{"cleartext-allowed-without-tls", Options{AuthMethod: AuthPassword, AllowCleartext: true}, "sslmode=disable", "password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.Handler = newVerifierHandler(t, nil)
			ts := startServer(t, tc.opt)
			selectOne(t, connect(t, ts, tc.sslm))
			if !strings.Contains(ts.logs.String(), "method="+tc.method+" ") {
				t.Errorf("server did not log method %s:\n%s", tc.method, ts.logs.String())
			}
			// SASLprep applies to the password checked against a verifier too.
			conn, err := pgx.Connect(testCtx(t), connString(ts, "ü", "pässwörd", tc.sslm))
			if err != nil {
				t.Fatalf("non-ASCII password: %v", err)
			}
			selectOne(t, conn)
			conn.Close(context.Background())
			// A wrong password and an unknown user fail alike.
			for _, user := range []string{"u", "nobody"} {
				_, err := pgx.Connect(testCtx(t), connString(ts, user, "wrong", tc.sslm))
				if pgCode(err) != "28P01" || !strings.Contains(err.Error(), fmt.Sprintf("password authentication failed for user %q", user)) {
					t.Errorf("user %s with a wrong password: %v", user, err)
				}
			}
		})
	}
}

func TestVerifierWithMD5IsRefused(t *testing.T) {
	ts := startServer(t, Options{AuthMethod: AuthMD5, Handler: newVerifierHandler(t, nil)})
	_, err := pgx.Connect(testCtx(t), connString(ts, "u", "pw", ""))
	if pgCode(err) != "28000" || !strings.Contains(err.Error(), "md5 authentication is not available") {
		t.Fatalf("md5 with a verifier: %v", err)
	}
	if !strings.Contains(err.Error(), "SCRAM") {
		t.Errorf("the error does not point to SCRAM: %v", err)
	}
	// An unknown user is still challenged and refused like a wrong password.
	_, err = pgx.Connect(testCtx(t), connString(ts, "nobody", "pw", ""))
	if pgCode(err) != "28P01" {
		t.Errorf("unknown user with md5: %v", err)
	}
}

func TestMalformedVerifierFailsLikeAWrongPassword(t *testing.T) {
	h := newVerifierHandler(t, map[string]string{"u": "SCRAM-SHA-256$4096:c2FsdA==$bm90IGEga2V5:bm90IGEga2V5"})
	for _, opt := range []Options{{}, {AuthMethod: AuthPassword, AllowCleartext: true}} {
		opt.Handler = h
		ts := startServer(t, opt)
		_, err := pgx.Connect(testCtx(t), connString(ts, "u", "pw", ""))
		if pgCode(err) != "28P01" {
			t.Errorf("%s: malformed verifier: %v", opt.AuthMethod, err)
		}
		if !strings.Contains(ts.logs.String(), "invalid SCRAM verifier") {
			t.Errorf("%s: the malformed verifier was not logged:\n%s", opt.AuthMethod, ts.logs.String())
		}
	}
}

// TestUnknownUserSaltIsStable checks that an unknown user is shown the same salt on every
// attempt, as a user with a stored verifier is, so that the salt does not tell them apart.
func TestUnknownUserSaltIsStable(t *testing.T) {
	ts := startServer(t, Options{Handler: newVerifierHandler(t, nil)})
	serverFirst := func(user string) string {
		c := dial(t, ts)
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
			Parameters: map[string]string{"user": user}})
		c.expect("R")
		c.send(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("n,,n=,r=clientnonce")})
		m, _ := c.receive()
		cont, ok := m.(*pgproto3.AuthenticationSASLContinue)
		if !ok {
			t.Fatalf("got %T, want AuthenticationSASLContinue", m)
		}
		// "r=<nonce>,s=<salt>,i=<iterations>": the nonce changes every time.
		_, rest, _ := strings.Cut(string(cont.Data), ",")
		return rest
	}
	for _, user := range []string{"u", "nobody"} {
		if a, b := serverFirst(user), serverFirst(user); a != b {
			t.Errorf("user %s: salt changed between attempts: %q, %q", user, a, b)
		}
	}
	if a, b := serverFirst("nobody"), serverFirst("nobody2"); a == b {
		t.Errorf("two unknown users share a salt: %q", a)
	}
}

func TestParseSCRAMVerifier(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	key := b64(make([]byte, 32))
	salt := b64([]byte("0123456789abcdef"))
	good := fmt.Sprintf("SCRAM-SHA-256$4096:%s$%s:%s", salt, key, key)
	cred, err := ParseSCRAMVerifier(good)
	if err != nil {
		t.Fatalf("%s: %v", good, err)
	}
	if cred.Iters != 4096 || cred.Salt != "0123456789abcdef" || len(cred.StoredKey) != 32 || len(cred.ServerKey) != 32 {
		t.Errorf("parsed %+v", cred)
	}

	bad := []struct{ name, in, want string }{
		{"plaintext", "hunter2", "does not start with"},
		{"md5-hash", "md5" + strings.Repeat("0", 32), "does not start with"},
		{"other-mechanism", "SCRAM-SHA-1$4096:" + salt + "$" + key + ":" + key, "does not start with"},
		{"no-keys", "SCRAM-SHA-256$4096:" + salt, "want SCRAM-SHA-256$"},
		{"no-salt-separator", "SCRAM-SHA-256$4096$" + key + ":" + key, "<iterations>:<salt>"},
		{"zero-iterations", "SCRAM-SHA-256$0:" + salt + "$" + key + ":" + key, "iteration count"},
		{"negative-iterations", "SCRAM-SHA-256$-1:" + salt + "$" + key + ":" + key, "iteration count"},
		{"text-iterations", "SCRAM-SHA-256$many:" + salt + "$" + key + ":" + key, "iteration count"},
		{"empty-salt", "SCRAM-SHA-256$4096:$" + key + ":" + key, "salt"},
		{"salt-not-base64", "SCRAM-SHA-256$4096:***$" + key + ":" + key, "salt"},
		{"no-key-separator", "SCRAM-SHA-256$4096:" + salt + "$" + key + key, "<StoredKey>:<ServerKey>"},
		{"short-stored-key", "SCRAM-SHA-256$4096:" + salt + "$" + b64(make([]byte, 20)) + ":" + key, "StoredKey"},
		{"stored-key-not-base64", "SCRAM-SHA-256$4096:" + salt + "$!!:" + key, "StoredKey"},
		{"long-server-key", "SCRAM-SHA-256$4096:" + salt + "$" + key + ":" + b64(make([]byte, 33)), "ServerKey"},
		{"trailing-field", good + ":extra", "ServerKey"},
		{"empty", "", "does not start with"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSCRAMVerifier(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseSCRAMVerifier(%q) = %v, want an error containing %q", tc.in, err, tc.want)
			}
		})
	}

	for in, want := range map[string]bool{good: true, "SCRAM-SHA-256$": true, "hunter2": false, "scram-sha-256$x": false, "": false} {
		if got := IsSCRAMVerifier(in); got != want {
			t.Errorf("IsSCRAMVerifier(%q) = %v, want %v", in, got, want)
		}
	}
}

func userIs(name string) func(ConnInfo) bool {
	return func(ci ConnInfo) bool { return ci.Startup["user"] == name }
}

func TestDisconnect(t *testing.T) {
	ts := startServer(t, Options{})
	rotated := connect(t, ts, "")
	other, err := pgx.Connect(testCtx(t), connString(ts, "ü", "pässwörd", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	selectOne(t, rotated)
	selectOne(t, other)

	if n := ts.Disconnect(userIs("u"), "password rotated"); n != 1 {
		t.Errorf("Disconnect closed %d connections, want 1", n)
	}
	if _, err := rotated.Exec(testCtx(t), "SELECT 1"); err == nil {
		t.Errorf("the disconnected connection still works")
	} else if code := pgCode(err); code != "" && code != "57P01" {
		t.Errorf("the disconnected connection: %v", err)
	}
	selectOne(t, other)
	// A connection already closed is not counted again, and new logins are not affected.
	if n := ts.Disconnect(userIs("u"), "password rotated"); n != 0 {
		t.Errorf("second Disconnect closed %d connections, want 0", n)
	}
	selectOne(t, connect(t, ts, ""))
}

func TestDisconnectTellsTheClient(t *testing.T) {
	ts := rawServer(t, Options{})
	idle := rawConnect(t, ts)
	busy := rawConnect(t, ts)

	busy.send(&pgproto3.Query{String: "SLOW"})
	<-ts.h.running
	if n := ts.Disconnect(userIs("u"), "password rotated"); n != 2 {
		t.Errorf("Disconnect closed %d connections, want 2", n)
	}
	for name, c := range map[string]*rawClient{"idle": idle, "busy": busy} {
		var e *pgproto3.ErrorResponse
		if name == "busy" {
			// The busy connection may have sent the query's RowDescription first.
			for {
				m, ty := c.receive()
				if ty == 'E' {
					e = copyMsg(m).(*pgproto3.ErrorResponse)
					break
				}
			}
			c.expectClosed()
		} else {
			e = c.expectFatal("57P01")
		}
		if e.Code != "57P01" || e.Severity != "FATAL" || e.Message != "terminating connection: password rotated" {
			t.Errorf("%s: got %s %s %q", name, e.Severity, e.Code, e.Message)
		}
	}
}

func TestDisconnectSkipsConnectionsInStartup(t *testing.T) {
	ts := rawServer(t, Options{})
	c := dial(t, ts)
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters: map[string]string{"user": "u"}})
	c.expect("R") // waiting for the password: not yet authenticated
	if n := ts.Disconnect(func(ConnInfo) bool { return true }, "x"); n != 0 {
		t.Errorf("Disconnect closed %d connections in startup, want 0", n)
	}
	c.send(&pgproto3.PasswordMessage{Password: "pw"})
	if msgs := c.expectUntilReady(); !strings.HasSuffix(msgs, "KZ") {
		t.Errorf("login after Disconnect: %q", msgs)
	}
}
