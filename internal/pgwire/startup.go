package pgwire

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Codes of the startup packets that are not a protocol version.
const (
	codeCancelRequest = 80877102 // 1234.5678
	codeSSLRequest    = 80877103 // 1234.5679
	codeGSSENCRequest = 80877104 // 1234.5680

	// maxStartupPacket is PostgreSQL's MAX_STARTUP_PACKET_LENGTH.
	maxStartupPacket = 10000
)

// errQuietClose ends a connection without telling the client anything more: it went away,
// or it was a cancel request.
var errQuietClose = errors.New("pgwire: connection closed")

// readStartupPacket reads one length-prefixed startup packet. It reads exactly the
// packet's bytes and no more, so that whatever follows an SSLRequest is left for the TLS
// handshake (a client cannot slip plain-text messages in before it).
func readStartupPacket(r io.Reader) ([]byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, errQuietClose
	}
	n := int(int32(binary.BigEndian.Uint32(head[:])))
	if n < 8 || n > maxStartupPacket {
		return nil, protocolViolation("invalid length of startup packet")
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, protocolViolation("incomplete startup packet")
		}
		return nil, errQuietClose
	}
	return body, nil
}

// startup reads startup packets until a StartupMessage, negotiating TLS, refusing GSS
// encryption and serving a cancel request on the way. It returns the startup parameters.
func (c *conn) startup() (map[string]string, error) {
	for {
		body, err := readStartupPacket(c.nc)
		if err != nil {
			return nil, err
		}
		code := binary.BigEndian.Uint32(body)
		switch code {
		case codeSSLRequest:
			if c.tls {
				return nil, protocolViolation("SSLRequest received on an encrypted connection")
			}
			if c.srv.opt.TLSConfig == nil {
				if _, err := c.nc.Write([]byte{'N'}); err != nil {
					return nil, errQuietClose
				}
				continue
			}
			if _, err := c.nc.Write([]byte{'S'}); err != nil {
				return nil, errQuietClose
			}
			tc := tls.Server(c.raw, c.srv.opt.TLSConfig)
			if err := tc.HandshakeContext(c.ctx); err != nil {
				c.log.Info("pgwire: TLS handshake failed", "err", err)
				return nil, errQuietClose
			}
			c.nc, c.tls = tc, true
			c.info.TLS = true
		case codeGSSENCRequest:
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return nil, errQuietClose
			}
		case codeCancelRequest:
			var m pgproto3.CancelRequest
			if err := m.Decode(body); err != nil {
				return nil, errQuietClose
			}
			c.srv.cancelRequest(m.ProcessID, m.SecretKey, c.raw.RemoteAddr())
			return nil, errQuietClose
		default:
			major, minor := code>>16, code&0xffff
			if major != 3 {
				return nil, &Error{Severity: "FATAL", Code: "0A000",
					Message: fmt.Sprintf("unsupported frontend protocol %d.%d: server supports 3.0 to 3.0", major, minor)}
			}
			params, err := parseStartupParams(body[4:])
			if err != nil {
				return nil, err
			}
			// Like PostgreSQL: a newer 3.x minor version or protocol options (_pq_.*) are
			// answered with NegotiateProtocolVersion, and the connection goes on in 3.0.
			var unknown []string
			for k := range params {
				if strings.HasPrefix(k, "_pq_.") {
					unknown = append(unknown, k)
					delete(params, k)
				}
			}
			if minor > 0 || len(unknown) > 0 {
				c.negotiate = &pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unknown}
			}
			return params, nil
		}
	}
}

// parseStartupParams reads the name/value pairs of a StartupMessage body.
func parseStartupParams(b []byte) (map[string]string, error) {
	bad := protocolViolation("invalid startup packet layout: expected terminator as last byte")
	params := map[string]string{}
	for {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return nil, bad
		}
		if i == 0 {
			if len(b) != 1 {
				return nil, bad
			}
			return params, nil
		}
		name := string(b[:i])
		b = b[i+1:]
		j := bytes.IndexByte(b, 0)
		if j < 0 {
			return nil, bad
		}
		params[name] = string(b[:j])
		b = b[j+1:]
	}
}

// parseOptions reads the -c name=value and --name=value settings of the startup
// "options" parameter; a backslash escapes the next character (a space in a value).
func parseOptions(s string) map[string]string {
	var words []string
	var w strings.Builder
	inWord, escaped := false, false
	for _, r := range s {
		switch {
		case escaped:
			w.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped, inWord = true, true
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	opts := map[string]string{}
	set := func(kv string) {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			opts[strings.ReplaceAll(k, "-", "_")] = v
		}
	}
	for i := 0; i < len(words); i++ {
		switch {
		case words[i] == "-c" && i+1 < len(words):
			i++
			set(words[i])
		case strings.HasPrefix(words[i], "-c"):
			set(words[i][2:])
		case strings.HasPrefix(words[i], "--"):
			set(words[i][2:])
		}
	}
	return opts
}
