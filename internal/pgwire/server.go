package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// AuthMethod is how clients prove their password.
type AuthMethod string

const (
	// AuthSCRAM is SCRAM-SHA-256 (the default), with SCRAM-SHA-256-PLUS channel binding
	// offered over TLS when the server certificate is known.
	AuthSCRAM AuthMethod = "scram-sha-256"
	// AuthMD5 is PostgreSQL's md5 challenge.
	AuthMD5 AuthMethod = "md5"
	// AuthPassword is the cleartext password, refused on connections without TLS unless
	// Options.AllowCleartext is set.
	AuthPassword AuthMethod = "password"
	// AuthTrust asks for no password: the Handler's Password is called only to know
	// whether the user may connect. For local development.
	AuthTrust AuthMethod = "trust"
)

// Valid reports whether m is one of the declared methods ("" is valid: the default).
func (m AuthMethod) Valid() bool {
	switch m {
	case "", AuthSCRAM, AuthMD5, AuthPassword, AuthTrust:
		return true
	}
	return false
}

// Options configure a Server.
type Options struct {
	// Handler checks logins and opens sessions. Required.
	Handler Handler
	// TLSConfig enables TLS: an SSLRequest is answered 'S' and the handshake follows.
	// nil: SSLRequest is answered 'N' and the client continues in plain text.
	TLSConfig *tls.Config
	// Logger receives connection and error logs; nil discards them.
	Logger *slog.Logger
	// IdleTimeout closes a connection that sends nothing for this long (FATAL 57P05, or
	// 25P03 inside a transaction). 0: none.
	IdleTimeout time.Duration
	// StatementTimeout cancels a statement (one Execute, or one statement of a simple
	// query) that runs longer (57014). 0: none.
	StatementTimeout time.Duration
	// AuthMethod is how passwords are checked; "" is AuthSCRAM.
	AuthMethod AuthMethod
	// AllowCleartext allows AuthPassword on connections without TLS.
	AllowCleartext bool
	// AuthTimeout bounds the startup: TLS handshake and authentication. 0: one minute.
	AuthTimeout time.Duration
	// MaxMessageSize is the largest message body accepted after authentication; a longer
	// length is refused (FATAL 08P01) before anything is allocated for it. 0: 64 MiB.
	// Before authentication the cap is 64 KiB.
	MaxMessageSize int
	// MaxConnections refuses connections beyond this many (FATAL 53300). 0: unlimited.
	MaxConnections int
	// AuthFailed, when set, is told of every refused login (for an audit log): the
	// startup's user and database and the error sent to the client. ctx carries the
	// connection's ConnInfo.
	AuthFailed func(ctx context.Context, user, database string, err *Error)
}

const (
	defaultAuthTimeout    = time.Minute
	defaultMaxMessageSize = 64 << 20
	maxAuthMessageSize    = 64 << 10
)

func (o Options) validate() error {
	if o.Handler == nil {
		return errors.New("pgwire: Options.Handler is nil")
	}
	if !o.AuthMethod.Valid() {
		return fmt.Errorf("pgwire: unknown AuthMethod %q (want scram-sha-256, md5, password or trust)", o.AuthMethod)
	}
	return nil
}

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("pgwire: server closed")

// Server serves the PostgreSQL protocol on listeners, one goroutine per connection.
type Server struct {
	opt Options
	log *slog.Logger
	// cbData is the tls-server-end-point channel binding of the server certificate, nil
	// when it cannot be known in advance (see channelBinding).
	cbData []byte
	// mockNonce keys the SCRAM salts shown to unknown users (see mockSalt).
	mockNonce [32]byte

	ctx    context.Context // canceled by Close: every statement context derives from it
	cancel context.CancelFunc

	closing atomic.Bool
	connID  atomic.Uint64

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	byPID     map[uint32]*conn
	nextPID   uint32
	// dropped holds the connections Disconnect has closed whose goroutines have not
	// ended yet, so that they are counted once.
	dropped map[*conn]struct{}
	wg      sync.WaitGroup
}

// NewServer returns a Server for opt. Options are checked by Serve.
func NewServer(opt Options) *Server {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opt.AuthMethod == "" {
		opt.AuthMethod = AuthSCRAM
	}
	if opt.AuthTimeout <= 0 {
		opt.AuthTimeout = defaultAuthTimeout
	}
	if opt.MaxMessageSize <= 0 {
		opt.MaxMessageSize = defaultMaxMessageSize
	}
	ctx, cancel := context.WithCancel(context.Background())
	var seed [4]byte
	_, _ = rand.Read(seed[:])
	var nonce [32]byte
	_, _ = rand.Read(nonce[:])
	return &Server{
		mockNonce: nonce,
		opt:       opt,
		log:       log,
		cbData:    channelBinding(opt.TLSConfig),
		ctx:       ctx,
		cancel:    cancel,
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
		byPID:     map[uint32]*conn{},
		dropped:   map[*conn]struct{}{},
		// Process ids start at a random point so that they say nothing about how many
		// connections the server has seen; they stay below 2^31 because clients keep
		// them in a signed 32-bit integer.
		nextPID: binary.BigEndian.Uint32(seed[:]) & 0x3fffffff,
	}
}

// Serve accepts connections on ln until Close, and then returns ErrServerClosed. It
// closes ln when it returns.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.opt.validate(); err != nil {
		ln.Close()
		return err
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			// Running out of file descriptors is temporary: wait and retry, as net/http does.
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("pgwire: accept", "err", err, "retry_in", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		if !s.serveNetConn(nc) {
			return ErrServerClosed
		}
	}
}

// serveNetConn serves nc on a goroutine of its own, or closes it and reports false when
// the server is closing.
func (s *Server) serveNetConn(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		nc.Close()
		return false
	}
	c := newConn(s, nc)
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	go s.serveConn(c)
	return true
}

// Close stops accepting connections, cancels running statements, ends every connection
// (idle ones receive FATAL 57P01) and waits for their goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing.Store(true)
	var err error
	for ln := range s.listeners {
		if e := ln.Close(); e != nil && !errors.Is(e, net.ErrClosed) && err == nil {
			err = e
		}
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	s.cancel()
	for _, c := range conns {
		c.interrupt()
	}
	s.wg.Wait()
	return err
}

func (s *Server) serveConn(c *conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		if c.pid != 0 && s.byPID[c.pid] == c {
			delete(s.byPID, c.pid)
		}
		delete(s.dropped, c)
		s.mu.Unlock()
	}()
	c.run()
}

// Disconnect closes every authenticated connection whose ConnInfo match accepts, and
// returns how many it closed. It is for credentials that stop being valid (a rotated
// password): sessions opened with them must not outlive them. Connections still in their
// startup are not matched; they are checked against the Handler's current password.
//
// Each client is sent FATAL 57P01 "terminating connection: " + reason, then its socket is
// closed, so that an idle client learns at once and a busy one at its next read; a running
// statement's context is canceled with that error as its cause. match is called without
// the server's lock held, once per connection, possibly while the connection is serving.
func (s *Server) Disconnect(match func(ConnInfo) bool, reason string) int {
	type candidate struct {
		c    *conn
		info ConnInfo
	}
	s.mu.Lock()
	cands := make([]candidate, 0, len(s.byPID))
	for pid, c := range s.byPID {
		if _, gone := s.dropped[c]; gone {
			continue
		}
		// Field by field rather than *c.info: these were written before register took
		// s.mu, while the connection's goroutine may be writing ProcessID now.
		cands = append(cands, candidate{c: c, info: ConnInfo{
			RemoteAddr:  c.info.RemoteAddr,
			TLS:         c.info.TLS,
			ProcessID:   pid,
			Startup:     c.info.Startup,
			Options:     c.info.Options,
			ConnectedAt: c.info.ConnectedAt,
		}})
	}
	s.mu.Unlock()

	e := &Error{Severity: "FATAL", Code: "57P01", Message: "terminating connection: " + reason}
	n := 0
	for _, cd := range cands {
		if !match(cd.info) {
			continue
		}
		s.mu.Lock()
		_, gone := s.dropped[cd.c]
		if !gone {
			s.dropped[cd.c] = struct{}{}
		}
		s.mu.Unlock()
		if gone {
			continue
		}
		s.log.Info("pgwire: disconnecting", "pid", cd.info.ProcessID, "user", cd.info.Startup["user"], "reason", reason)
		cd.c.terminate(e)
		n++
	}
	return n
}

// terminate ends an authenticated connection from another goroutine than its own: it
// cancels what runs with e as the cause, writes e to the client and closes the socket,
// which ends the connection's goroutine at its next read or write.
//
// Writing from here is safe at the level of messages: the connection's goroutine writes
// only whole messages, in one Write each (pgproto3's Flush), and a net.Conn or tls.Conn
// serializes concurrent Writes, so e lands between two messages, as PostgreSQL's own
// termination does in a result. The one exception is a client that has stopped reading
// for the second the write is given: a write of the connection's goroutine cut by that
// deadline may leave half a message before e. That client gets a garbled end instead
// of a clean one, and the connection is closed all the same.
func (c *conn) terminate(e *Error) {
	c.cancelRunning(e)
	c.stop()
	if buf, err := errorResponse(e).Encode(nil); err == nil {
		_ = c.raw.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.nc.Write(buf)
	}
	_ = c.raw.Close()
}

// register gives c a process id and secret for BackendKeyData, or reports that the
// server is full.
func (s *Server) register(c *conn) bool {
	var secret [4]byte
	_, _ = rand.Read(secret[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opt.MaxConnections > 0 && len(s.byPID) >= s.opt.MaxConnections {
		return false
	}
	for {
		s.nextPID = (s.nextPID + 1) & 0x7fffffff
		if _, taken := s.byPID[s.nextPID]; s.nextPID != 0 && !taken {
			break
		}
	}
	c.pid, c.secret = s.nextPID, secret
	s.byPID[c.pid] = c
	return true
}

// cancelRequest cancels the statement running on the connection whose BackendKeyData is
// (pid, secret). A wrong pair does nothing, and the client learns nothing either way, as
// with PostgreSQL.
func (s *Server) cancelRequest(pid uint32, secret []byte, from net.Addr) {
	s.mu.Lock()
	c := s.byPID[pid]
	s.mu.Unlock()
	if c == nil || subtle.ConstantTimeCompare(c.secret[:], secret) != 1 {
		s.log.Info("pgwire: cancel request with an unknown key", "pid", pid, "from", from)
		return
	}
	// Not c.log: the connection's goroutine may be replacing it.
	s.log.Info("pgwire: cancel request", "pid", pid, "from", from)
	c.cancelRunning(errUserCancel())
}
