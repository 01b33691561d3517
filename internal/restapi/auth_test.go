package restapi_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cubit-dev/cubit/internal/cli"
	"github.com/cubit-dev/cubit/internal/restapi"
)

// simpleQuery is a small valid /load body over the demo.
const simpleQuery = `{"query":{"measures":["orders.count"],"dimensions":["orders.status"]}}`

// signed returns a JWT of claims signed with secret by method.
func signed(t *testing.T, method jwt.SigningMethod, secret string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// handMade builds a token from a header and payload, signed with HMAC-SHA256 of secret
// whatever the header says (an empty signature when secret is ""): the shapes attackers send.
func handMade(header, payload, secret string) string {
	text := b64(header) + "." + b64(payload)
	if secret == "" {
		return text + "."
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(text))
	return text + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func TestAuth(t *testing.T) {
	t.Parallel()
	a := startAPI(t, demoEngine(t, nil), restapi.Options{})
	now := time.Now()
	good := signed(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"tenant": "a", "exp": now.Add(time.Hour).Unix()})

	var minted bytes.Buffer
	var stderr bytes.Buffer
	code := cli.Main([]string{"token", "--secret", testSecret, "--ttl", "1h", "--claims", `{"tenant":"a"}`},
		func(string) string { return "" }, strings.NewReader(""), &minted, &stderr)
	if code != 0 {
		t.Fatalf("cubit token: exit %d: %s", code, stderr.String())
	}
	cliToken := strings.TrimSpace(minted.String())

	cases := []struct {
		name    string
		path    string // default /v1/load
		headers []string
		status  int
		part    string // a part of the error message
	}{
		{name: "missing header", status: 401, part: "Authorization header isn't set"},
		{name: "missing header names the form", status: 401, part: "Authorization: Bearer <token>"},
		{name: "Bearer alone", headers: []string{"Authorization", "Bearer"}, status: 401, part: "Authorization: Bearer <token>"},
		{name: "Bearer and spaces", headers: []string{"Authorization", "Bearer    "}, status: 401, part: "Authorization: Bearer <token>"},
		{name: "three words", headers: []string{"Authorization", "Bearer " + good + " extra"}, status: 401, part: "Authorization: Bearer <token>"},
		{name: "not a JWT", headers: []string{"Authorization", "Bearer hello"}, status: 401, part: "not a JWT"},
		{name: "three parts, not base64 JSON", headers: []string{"Authorization", "Bearer a.b.c"}, status: 401, part: "Invalid token"},
		{name: "wrong signature", headers: []string{"Authorization", "Bearer " + signed(t, jwt.SigningMethodHS256, "another-secret", jwt.MapClaims{"tenant": "a"})},
			status: 401, part: "signature is invalid"},
		{name: "alg none", headers: []string{"Authorization", "Bearer " + handMade(`{"alg":"none","typ":"JWT"}`, `{"tenant":"a"}`, "")},
			status: 401, part: "alg: none"},
		{name: "alg none with a signature", headers: []string{"Authorization", "Bearer " + handMade(`{"alg":"none","typ":"JWT"}`, `{"tenant":"a"}`, testSecret)},
			status: 401, part: "Invalid token"},
		{name: "RS256 label over an HMAC of the secret", headers: []string{"Authorization", "Bearer " + handMade(`{"alg":"RS256","typ":"JWT"}`, `{"tenant":"a"}`, testSecret)},
			status: 401, part: "HS256"},
		{name: "unknown alg", headers: []string{"Authorization", "Bearer " + handMade(`{"alg":"XX999","typ":"JWT"}`, `{"tenant":"a"}`, testSecret)},
			status: 401, part: "Invalid token"},
		{name: "HS512", headers: []string{"Authorization", "Bearer " + signed(t, jwt.SigningMethodHS512, testSecret, jwt.MapClaims{"tenant": "a"})}, status: 200},
		{name: "HS384", headers: []string{"Authorization", "Bearer " + signed(t, jwt.SigningMethodHS384, testSecret, jwt.MapClaims{"tenant": "a"})}, status: 200},
		{name: "expired", headers: []string{"Authorization", "Bearer " + signed(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"exp": now.Add(-time.Hour).Unix()})},
			status: 401, part: "expired"},
		{name: "expired, signed by the rotated secret", headers: []string{"Authorization", "Bearer " + signed(t, jwt.SigningMethodHS256, oldSecret, jwt.MapClaims{"exp": now.Add(-time.Hour).Unix()})},
			status: 401, part: "expired"},
		{name: "expired, signed by an unknown secret", headers: []string{"Authorization", "Bearer " + signed(t, jwt.SigningMethodHS256, "another-secret", jwt.MapClaims{"exp": now.Add(-time.Hour).Unix()})},
			status: 401, part: "signature is invalid"},
		{name: "nbf in the future", headers: []string{"Authorization", "Bearer " + signed(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"nbf": now.Add(time.Hour).Unix()})},
			status: 401, part: "not valid yet"},
		{name: "nbf in the past", headers: []string{"Authorization", "Bearer " + signed(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"nbf": now.Add(-time.Hour).Unix()})}, status: 200},
		{name: "second secret of the rotation", headers: []string{"Authorization", "Bearer " + signed(t, jwt.SigningMethodHS256, oldSecret, jwt.MapClaims{"tenant": "a"})}, status: 200},
		{name: "bare token", headers: []string{"Authorization", good}, status: 200},
		{name: "any first word", headers: []string{"Authorization", "Token " + good}, status: 200},
		{name: "x-cube-authorization alone", headers: []string{"x-cube-authorization", good}, status: 200},
		{name: "x-cube-authorization wins over a bad Authorization", headers: []string{"x-cube-authorization", "Bearer " + good, "Authorization", "Bearer hello"}, status: 200},
		{name: "a bad x-cube-authorization wins over a good Authorization", headers: []string{"x-cube-authorization", "Bearer hello", "Authorization", "Bearer " + good},
			status: 401, part: "not a JWT"},
		{name: "meta scope only: no /load", headers: []string{"Authorization", "Bearer " + signed(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"scopes": []string{"meta"}})},
			status: 403, part: "API scope is missing: data"},
		{name: "meta scope only: /meta", path: "/v1/meta", headers: []string{"Authorization", "Bearer " + signed(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"scopes": []string{"meta"}})}, status: 200},
		{name: "scopes as a string", path: "/v1/sql", headers: []string{"Authorization", "Bearer " + signed(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"scopes": "meta data"})},
			status: 403, part: "API scope is missing: sql"},
		{name: "cubit token", headers: []string{"Authorization", "Bearer " + cliToken}, status: 200},
		{name: "missing header on /meta", path: "/v1/meta", status: 401, part: "Authorization header isn't set"},
		{name: "missing header on DELETE running-query", path: "/v1/running-query/abc", status: 401, part: "Authorization header isn't set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if path == "" {
				path = "/v1/load"
			}
			method, body := http.MethodPost, simpleQuery
			switch {
			case strings.HasPrefix(path, "/v1/meta"):
				method, body = http.MethodGet, ""
			case strings.HasPrefix(path, "/v1/running-query/"):
				method, body = http.MethodDelete, ""
			}
			r := send(t, method, a.url(path), body, c.headers...)
			switch c.status {
			case 200:
				if r.status != 200 {
					t.Fatalf("status %d, want 200: %s", r.status, r.body)
				}
				if path == "/v1/load" && r.json(t)["data"] == nil {
					t.Errorf("no data in %s", r.body)
				}
			case 401:
				body := wantError(t, r, 401, "AuthenticationError", c.part)
				if r.header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				if c.part == "expired" && strings.Contains(strings.ToLower(body["error"].(string)), "invalid") {
					t.Errorf("an expired token is reported as invalid: %s", body["error"])
				}
			default:
				wantError(t, r, c.status, "AuthorizationError", c.part)
			}
		})
	}
}

// TestMintedClaims checks that Mint's tokens verify, carry the claims and expire when told.
func TestMintedClaims(t *testing.T) {
	t.Parallel()
	a := startAPI(t, demoEngine(t, nil), restapi.Options{})
	expired, err := a.auth.Mint(map[string]any{"tenant": "a"}, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// A negative ttl is not "never": Mint only skips exp for 0.
	r := send(t, http.MethodPost, a.url("/v1/load"), simpleQuery, "Authorization", "Bearer "+expired)
	wantError(t, r, 401, "AuthenticationError", "expired")
	forever, err := a.auth.Mint(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	r = send(t, http.MethodPost, a.url("/v1/load"), simpleQuery, "Authorization", "Bearer "+forever)
	if r.status != 200 {
		t.Fatalf("token without expiry: status %d: %s", r.status, r.body)
	}
}
