package pgwire

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/xdg-go/scram"
	"github.com/xdg-go/stringprep"
)

const (
	scramMechanism     = "SCRAM-SHA-256"
	scramPlusMechanism = "SCRAM-SHA-256-PLUS"
	// scramIterations is PostgreSQL's default scram_iterations.
	scramIterations = 4096
)

// authenticate asks the client for its password by the configured method and checks it
// against the Handler's. It returns nil when the client may go on, or the FATAL error to
// send.
func (c *conn) authenticate(ctx context.Context, user, database string) error {
	password, perr := c.srv.opt.Handler.Password(ctx, user, database)
	// An unknown user is refused only after the client has answered the challenge, with
	// the same error as a wrong password, as PostgreSQL does, so that user names cannot
	// be probed. Other refusals are immediate.
	unknownUser := false
	if perr != nil {
		var pe *Error
		switch {
		case errors.As(perr, &pe):
			return fatal(pe)
		case errs.KindOf(perr) == errs.KindUnauthenticated:
			unknownUser = true
			password = randomPassword()
		default:
			return fatal(c.classify(perr, nil))
		}
		c.log.Info("pgwire: login refused by the handler", "err", perr)
	}
	sec := secret{plain: password}
	if unknownUser {
		sec.salt = c.srv.mockSalt(user)
	} else if IsSCRAMVerifier(password) {
		cred, err := ParseSCRAMVerifier(password)
		if err != nil {
			// A broken verifier is the deployment's fault, not the client's: it is logged
			// for the operator, and the client fails like with a wrong password, as
			// PostgreSQL does with an invalid SCRAM secret.
			c.log.Error("pgwire: the handler returned an invalid SCRAM verifier", "err", err)
			unknownUser = true
			sec = secret{plain: randomPassword(), salt: c.srv.mockSalt(user)}
		} else {
			sec = secret{verifier: true, cred: cred}
		}
	}
	failed := &Error{Severity: "FATAL", Code: "28P01",
		Message: fmt.Sprintf("password authentication failed for user %q", user)}

	var ok bool
	var err error
	c.authMech = string(c.srv.opt.AuthMethod)
	switch c.srv.opt.AuthMethod {
	case AuthTrust:
		if unknownUser {
			return &Error{Severity: "FATAL", Code: "28000", Message: fmt.Sprintf("role %q does not exist", user)}
		}
		return nil
	case AuthPassword:
		if !c.tls && !c.srv.opt.AllowCleartext {
			return &Error{Severity: "FATAL", Code: "28000",
				Message: "cleartext password authentication requires an encrypted connection",
				Hint:    "Connect with sslmode=require."}
		}
		ok, err = c.authCleartext(sec)
	case AuthMD5:
		if sec.verifier {
			// The md5 answer is a hash of the plaintext password, which a verifier does
			// not hold. Refused before the challenge, as there is nothing to check the
			// answer against; this tells a prober the user exists, which is why a server
			// whose users have verifiers should not offer md5 at all.
			return &Error{Severity: "FATAL", Code: "28000",
				Message: fmt.Sprintf("md5 authentication is not available for user %q: its password is stored as a SCRAM verifier", user),
				Hint:    "Use SCRAM-SHA-256 authentication."}
		}
		ok, err = c.authMD5(user, sec.plain)
	default:
		ok, err = c.authSCRAM(sec)
	}
	switch {
	case err != nil:
		return err
	case !ok || unknownUser:
		c.log.Info("pgwire: password authentication failed", "method", string(c.srv.opt.AuthMethod))
		return failed
	}
	return nil
}

// secret is what a user's password is checked against: the plaintext password, or the
// SCRAM-SHA-256 keys of a stored verifier.
type secret struct {
	plain    string
	verifier bool
	cred     scram.StoredCredentials
	// salt, when set, is the SCRAM salt for a plaintext password instead of a fresh one.
	salt []byte
}

// scramCredentials returns the SCRAM keys to run the exchange with: the verifier's, or
// ones derived from the plaintext password with a fresh salt.
func (s secret) scramCredentials() (scram.StoredCredentials, error) {
	if s.verifier {
		return s.cred, nil
	}
	salt := s.salt
	if salt == nil {
		salt = make([]byte, 16)
		_, _ = rand.Read(salt)
	}
	return deriveSCRAM(s.plain, salt, scramIterations)
}

// matches reports whether password, given in clear, is the secret's, in time that does not
// depend on where the two differ.
func (s secret) matches(password string) (bool, error) {
	if !s.verifier {
		// Compare digests so that the time taken says nothing about the length either.
		got, want := sha256.Sum256([]byte(password)), sha256.Sum256([]byte(s.plain))
		return subtle.ConstantTimeCompare(got[:], want[:]) == 1, nil
	}
	cred, err := deriveSCRAM(password, []byte(s.cred.Salt), s.cred.Iters)
	if err != nil {
		return false, err
	}
	storedOK := subtle.ConstantTimeCompare(cred.StoredKey, s.cred.StoredKey)
	serverOK := subtle.ConstantTimeCompare(cred.ServerKey, s.cred.ServerKey)
	return storedOK&serverOK == 1, nil
}

// receivePassword reads the client's answer to an authentication request of type
// authType.
func (c *conn) receivePassword(authType uint32) (pgproto3.FrontendMessage, error) {
	if err := c.be.SetAuthType(authType); err != nil {
		return nil, err
	}
	msg, err := c.receive()
	if err != nil {
		return nil, err
	}
	switch msg.(type) {
	case *pgproto3.PasswordMessage, *pgproto3.SASLInitialResponse, *pgproto3.SASLResponse:
		return msg, nil
	case *pgproto3.Terminate:
		return nil, errQuietClose
	}
	return nil, protocolViolation(fmt.Sprintf("expected password response, got message type %T", msg))
}

func (c *conn) authCleartext(sec secret) (bool, error) {
	c.send(&pgproto3.AuthenticationCleartextPassword{})
	if err := c.flush(); err != nil {
		return false, err
	}
	msg, err := c.receivePassword(pgproto3.AuthTypeCleartextPassword)
	if err != nil {
		return false, err
	}
	pm, ok := msg.(*pgproto3.PasswordMessage)
	if !ok {
		return false, protocolViolation("expected a password message")
	}
	return sec.matches(pm.Password)
}

func (c *conn) authMD5(user, password string) (bool, error) {
	var salt [4]byte
	_, _ = rand.Read(salt[:])
	c.send(&pgproto3.AuthenticationMD5Password{Salt: salt})
	if err := c.flush(); err != nil {
		return false, err
	}
	msg, err := c.receivePassword(pgproto3.AuthTypeMD5Password)
	if err != nil {
		return false, err
	}
	pm, ok := msg.(*pgproto3.PasswordMessage)
	if !ok {
		return false, protocolViolation("expected a password message")
	}
	want := md5Password(user, password, salt)
	return subtle.ConstantTimeCompare([]byte(pm.Password), []byte(want)) == 1, nil
}

// md5Password is what a client answers to the md5 challenge: "md5" followed by
// md5(md5(password || user) || salt) in hex.
func md5Password(user, password string, salt [4]byte) string {
	inner := md5.Sum([]byte(password + user))
	h := md5.New()
	h.Write([]byte(hex.EncodeToString(inner[:])))
	h.Write(salt[:])
	return "md5" + hex.EncodeToString(h.Sum(nil))
}

func (c *conn) authSCRAM(sec secret) (bool, error) {
	cred, err := sec.scramCredentials()
	if err != nil {
		return false, err
	}
	server, err := scram.SHA256.NewServer(func(string) (scram.StoredCredentials, error) {
		// PostgreSQL ignores the user name in the SCRAM messages (clients send an empty
		// one): the user is the startup packet's.
		return cred, nil
	})
	if err != nil {
		return false, err
	}
	plus := c.tls && c.srv.cbData != nil
	mechanisms := []string{scramMechanism}
	if plus {
		mechanisms = []string{scramPlusMechanism, scramMechanism}
	}
	c.send(&pgproto3.AuthenticationSASL{AuthMechanisms: mechanisms})
	if err := c.flush(); err != nil {
		return false, err
	}
	msg, err := c.receivePassword(pgproto3.AuthTypeSASL)
	if err != nil {
		return false, err
	}
	first, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok {
		return false, protocolViolation("expected SASL response")
	}
	binds := strings.HasPrefix(string(first.Data), "p=")
	switch {
	case first.AuthMechanism == scramPlusMechanism && plus && binds:
	case first.AuthMechanism == scramMechanism && !binds:
	default:
		return false, protocolViolation("client selected an invalid SASL authentication mechanism")
	}
	c.authMech = first.AuthMechanism
	conv := server.NewConversation()
	if plus {
		// Also given when the client chose plain SCRAM, so that a client claiming
		// binding support ("y") while PLUS was offered is caught as a downgrade.
		conv = server.NewConversationWithChannelBinding(scram.ChannelBinding{
			Type: scram.ChannelBindingTLSServerEndpoint, Data: c.srv.cbData})
	}
	serverFirst, err := conv.Step(string(first.Data))
	if err != nil {
		return false, protocolViolation("malformed SCRAM message: " + err.Error())
	}
	c.send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})
	if err := c.flush(); err != nil {
		return false, err
	}
	msg, err = c.receivePassword(pgproto3.AuthTypeSASLContinue)
	if err != nil {
		return false, err
	}
	final, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		return false, protocolViolation("expected SASL response")
	}
	serverFinal, err := conv.Step(string(final.Data))
	if err != nil || !conv.Valid() {
		return false, nil
	}
	c.send(&pgproto3.AuthenticationSASLFinal{Data: []byte(serverFinal)})
	return true, nil
}

// deriveSCRAM derives the SCRAM-SHA-256 stored key and server key of password with salt
// and iterations, as PostgreSQL stores them for a role. The password is SASLprep'ed when it
// can be, and used as it is otherwise, as PostgreSQL does.
func deriveSCRAM(password string, salt []byte, iterations int) (scram.StoredCredentials, error) {
	if prepped, err := stringprep.SASLprep.Prepare(password); err == nil {
		password = prepped
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return scram.StoredCredentials{}, err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	storedKey := sha256.Sum256(mac(salted, "Client Key"))
	return scram.StoredCredentials{
		KeyFactors: scram.KeyFactors{Salt: string(salt), Iters: iterations},
		StoredKey:  storedKey[:],
		ServerKey:  mac(salted, "Server Key"),
	}, nil
}

// scramVerifierPrefix starts a SCRAM-SHA-256 verifier in PostgreSQL's text form.
const scramVerifierPrefix = "SCRAM-SHA-256$"

// IsSCRAMVerifier reports whether s has the form of a SCRAM-SHA-256 verifier (it starts
// with "SCRAM-SHA-256$") rather than of a plaintext password, as PostgreSQL decides for
// the value of rolpassword. It does not check the rest: see ParseSCRAMVerifier.
func IsSCRAMVerifier(s string) bool {
	return strings.HasPrefix(s, scramVerifierPrefix)
}

// ParseSCRAMVerifier parses a SCRAM-SHA-256 verifier in PostgreSQL's pg_authid text form,
//
//	SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
//
// into the credentials a SCRAM server checks a client's proof against. The base64 is the
// standard alphabet with padding, and both keys are 32 bytes (SHA-256), as PostgreSQL
// writes them. An error says which part is malformed; it never repeats the keys.
func ParseSCRAMVerifier(s string) (scram.StoredCredentials, error) {
	bad := func(format string, args ...any) (scram.StoredCredentials, error) {
		return scram.StoredCredentials{}, errs.Invalid("invalid SCRAM-SHA-256 verifier: "+format, args...)
	}
	rest, ok := strings.CutPrefix(s, scramVerifierPrefix)
	if !ok {
		return bad("it does not start with %q", scramVerifierPrefix)
	}
	factors, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return bad("want %s<iterations>:<salt>$<StoredKey>:<ServerKey>", scramVerifierPrefix)
	}
	iterText, saltText, ok := strings.Cut(factors, ":")
	if !ok {
		return bad("want <iterations>:<salt> before the second $")
	}
	iters, err := strconv.Atoi(iterText)
	if err != nil || iters < 1 {
		return bad("iteration count %q is not a positive integer", iterText)
	}
	salt, err := base64.StdEncoding.Strict().DecodeString(saltText)
	if err != nil || len(salt) == 0 {
		return bad("the salt is not non-empty base64")
	}
	storedText, serverText, ok := strings.Cut(keys, ":")
	if !ok {
		return bad("want <StoredKey>:<ServerKey> after the second $")
	}
	storedKey, err := base64.StdEncoding.Strict().DecodeString(storedText)
	if err != nil || len(storedKey) != sha256.Size {
		return bad("the StoredKey is not %d bytes of base64", sha256.Size)
	}
	serverKey, err := base64.StdEncoding.Strict().DecodeString(serverText)
	if err != nil || len(serverKey) != sha256.Size {
		return bad("the ServerKey is not %d bytes of base64", sha256.Size)
	}
	return scram.StoredCredentials{
		KeyFactors: scram.KeyFactors{Salt: string(salt), Iters: iters},
		StoredKey:  storedKey,
		ServerKey:  serverKey,
	}, nil
}

// mockSalt is the SCRAM salt shown to an unknown user: the same on every attempt, like the
// fixed salt of a stored verifier, so that a changing salt does not tell a prober that the
// user does not exist. It is derived from a secret of the server, as PostgreSQL derives
// its mock salt from mock_authentication_nonce.
func (s *Server) mockSalt(user string) []byte {
	mac := hmac.New(sha256.New, s.mockNonce[:])
	mac.Write([]byte(user))
	return mac.Sum(nil)[:16]
}

func randomPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// channelBinding returns the tls-server-end-point channel binding data (RFC 5929) of the
// configuration's certificate: its hash by the hash of its signature algorithm, SHA-256
// for MD5 and SHA-1. It is known in advance only for a configuration with one fixed
// certificate; otherwise nil, and SCRAM-SHA-256-PLUS is not offered.
func channelBinding(cfg *tls.Config) []byte {
	if cfg == nil || len(cfg.Certificates) != 1 || cfg.GetCertificate != nil || cfg.GetConfigForClient != nil ||
		len(cfg.Certificates[0].Certificate) == 0 {
		return nil
	}
	cert := cfg.Certificates[0].Leaf
	if cert == nil {
		var err error
		if cert, err = x509.ParseCertificate(cfg.Certificates[0].Certificate[0]); err != nil {
			return nil
		}
	}
	var h hash.Hash
	switch cert.SignatureAlgorithm {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1,
		x509.SHA256WithRSA, x509.SHA256WithRSAPSS, x509.ECDSAWithSHA256:
		h = sha256.New()
	case x509.SHA384WithRSA, x509.SHA384WithRSAPSS, x509.ECDSAWithSHA384:
		h = sha512.New384()
	case x509.SHA512WithRSA, x509.SHA512WithRSAPSS, x509.ECDSAWithSHA512:
		h = sha512.New()
	default:
		return nil
	}
	h.Write(cert.Raw)
	return h.Sum(nil)
}
