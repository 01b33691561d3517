package restapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cubit-dev/cubit/internal/errs"
)

// Scopes of Cube's REST API.
const (
	ScopeMeta = "meta"
	ScopeData = "data"
	ScopeSQL  = "sql"
	ScopeJobs = "jobs"
)

// DefaultScopes are the scopes a token has unless it names its own (CUBEJS_DEFAULT_API_SCOPES).
var DefaultScopes = []string{ScopeMeta, ScopeData, "graphql", ScopeSQL}

// Authenticator verifies the HS256 JWTs Cube's clients send. Any of several secrets may
// verify a token, so a secret can be rotated without a moment when no token works.
type Authenticator struct {
	secrets [][]byte
	scopes  []string
	now     func() time.Time
}

// NewAuthenticator returns an authenticator for the secrets (at least one) and the default
// scopes of tokens that carry none.
func NewAuthenticator(secrets []string, scopes []string) (*Authenticator, error) {
	a := &Authenticator{scopes: scopes, now: time.Now}
	for _, s := range secrets {
		if s != "" {
			a.secrets = append(a.secrets, []byte(s))
		}
	}
	if len(a.secrets) == 0 {
		return nil, errors.New("no API secret: set CUBEJS_API_SECRET")
	}
	if len(a.scopes) == 0 {
		a.scopes = DefaultScopes
	}
	return a, nil
}

// Mint returns a token signed with the first secret, carrying claims and expiring after
// ttl (never when ttl is 0; a negative ttl gives a token that has already expired).
func (a *Authenticator) Mint(claims map[string]any, ttl time.Duration) (string, error) {
	c := jwt.MapClaims{"iat": a.now().Unix()}
	for k, v := range claims {
		c[k] = v
	}
	if ttl != 0 {
		c["exp"] = a.now().Add(ttl).Unix()
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(a.secrets[0])
}

func unauthenticated(format string, args ...any) error {
	return &errs.Error{Kind: errs.KindUnauthenticated, Message: fmt.Sprintf(format, args...)}
}

// bearerForm is the header form every 401 about a malformed header repeats.
const bearerForm = "send the header as `Authorization: Bearer <token>`"

// Authenticate checks the request's token and that it grants scope, and returns the
// token's claims: the security context of the request.
func (a *Authenticator) Authenticate(r *http.Request, scope string) (map[string]any, error) {
	header := r.Header.Get("x-cube-authorization")
	if header == "" {
		header = r.Header.Get("Authorization")
	}
	header = strings.TrimSpace(header)
	if header == "" {
		return nil, unauthenticated("Authorization header isn't set: %s", bearerForm)
	}
	token := header
	if parts := strings.Fields(header); len(parts) == 2 {
		token = parts[1]
	} else if len(parts) > 2 {
		return nil, unauthenticated("malformed Authorization header: %s", bearerForm)
	}
	claims, err := a.verify(token)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(tokenScopes(claims, a.scopes), scope) {
		return nil, &errs.Error{Kind: errs.KindForbidden, Message: "API scope is missing: " + scope}
	}
	return claims, nil
}

// verify checks the signature with each secret in turn; an expired or not-yet-valid token
// is reported as such at once, since another secret would not make it current.
func (a *Authenticator) verify(token string) (map[string]any, error) {
	if strings.Count(token, ".") != 2 {
		return nil, unauthenticated("Invalid token: not a JWT (three dot-separated parts); %s", bearerForm)
	}
	// The library reports a refused algorithm as a bad signature; look at the header first
	// so that alg: none and RS256 tokens are told why they are refused.
	unverified, _, err := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
	if err != nil {
		return nil, unauthenticated("Invalid token: %s", tokenProblem(err))
	}
	if alg := unverified.Method.Alg(); !slices.Contains(validMethods, alg) {
		return nil, unauthenticated("Invalid token: alg %q: %s", alg, onlyHMAC)
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods(validMethods),
		jwt.WithTimeFunc(a.now),
	)
	var last error
	for _, secret := range a.secrets {
		claims := jwt.MapClaims{}
		_, err := parser.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return secret, nil })
		switch {
		case err == nil:
			return claims, nil
		case errors.Is(err, jwt.ErrTokenExpired):
			exp, _ := claims.GetExpirationTime()
			return nil, unauthenticated("Token expired at %s; mint a new one", exp.UTC().Format(time.RFC3339))
		case errors.Is(err, jwt.ErrTokenNotValidYet):
			return nil, unauthenticated("Token is not valid yet (nbf is in the future)")
		case errors.Is(err, jwt.ErrTokenSignatureInvalid):
			last = unauthenticated("Invalid token: signature is invalid")
		case errors.Is(err, jwt.ErrTokenUnverifiable), errors.Is(err, jwt.ErrTokenMalformed):
			return nil, unauthenticated("Invalid token: %s", tokenProblem(err))
		default:
			return nil, unauthenticated("Invalid token: %s", tokenProblem(err))
		}
	}
	return nil, last
}

// validMethods are the JWT algorithms accepted: HMAC with the shared secrets.
var validMethods = []string{"HS256", "HS384", "HS512"}

const onlyHMAC = "only HS256, HS384 and HS512 signed tokens are accepted (alg: none and others are refused)"

// tokenProblem words a JWT library error for the client; unsigned tokens get their own
// sentence because accepting them would let anyone in.
func tokenProblem(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "none") || strings.Contains(msg, "signing method") {
		return onlyHMAC
	}
	return msg
}

// tokenScopes are the scopes a token grants: its "scopes" claim (a list or a
// space-separated string), else the defaults.
func tokenScopes(claims map[string]any, defaults []string) []string {
	switch v := claims["scopes"].(type) {
	case string:
		return strings.Fields(v)
	case []any:
		var out []string
		for _, s := range v {
			if str, ok := s.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return defaults
}
