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
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
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
		ok, err = c.authCleartext(password)
	case AuthMD5:
		ok, err = c.authMD5(user, password)
	default:
		ok, err = c.authSCRAM(password)
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

func (c *conn) authCleartext(password string) (bool, error) {
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
	// Compare digests so that the time taken says nothing about the length either.
	got, want := sha256.Sum256([]byte(pm.Password)), sha256.Sum256([]byte(password))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1, nil
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

func (c *conn) authSCRAM(password string) (bool, error) {
	cred, err := scramCredentials(password)
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

// scramCredentials derives the SCRAM-SHA-256 stored key and server key of password with
// a fresh salt, as PostgreSQL stores them for a role. The password is SASLprep'ed when it
// can be, and used as it is otherwise, as PostgreSQL does.
func scramCredentials(password string) (scram.StoredCredentials, error) {
	if prepped, err := stringprep.SASLprep.Prepare(password); err == nil {
		password = prepped
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
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
		KeyFactors: scram.KeyFactors{Salt: string(salt), Iters: scramIterations},
		StoredKey:  storedKey[:],
		ServerKey:  mac(salted, "Server Key"),
	}, nil
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
