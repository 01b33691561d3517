package pgwire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
)

// flushThreshold is how many bytes of rows are buffered before they are written while a
// result streams.
const flushThreshold = 64 << 10

// conn is one client connection. Everything but cancelRunning and interrupt runs on the
// connection's own goroutine.
type conn struct {
	srv  *Server
	raw  net.Conn // the accepted connection: deadlines are set on it
	nc   net.Conn // raw, or the TLS connection over it
	tls  bool
	rd   *recordingReader
	be   *pgproto3.Backend
	log  *slog.Logger
	info *ConnInfo
	ctx  context.Context // ends with the connection or Server.Close
	stop context.CancelFunc

	pid    uint32
	secret [4]byte

	negotiate *pgproto3.NegotiateProtocolVersion
	authMech  string // how the client authenticated, for the log
	sess      Session

	// mu guards running: the cancel function of the statement running now, for
	// CancelRequest, which arrives on another connection's goroutine.
	mu      sync.Mutex
	running context.CancelCauseFunc

	stmts        map[string]*prepared
	portals      map[string]*portal
	skipTillSync bool
	reported     map[string]string // parameters as last sent with ParameterStatus
	enc          encoder
	pending      int // bytes sent with Send and not yet flushed
}

// prepared is a statement of the extended protocol.
type prepared struct {
	name       string
	st         Statement // nil for an empty query
	paramTypes []uint32
	columns    []Column
}

// portal is a bound statement, ready to run or suspended part-way through its rows.
type portal struct {
	name    string
	stmt    *prepared
	params  []any
	formats []int16 // one per column
	ctx     context.Context
	cancel  context.CancelCauseFunc
	rows    Rows
	done    bool
	tag     string
}

func (p *portal) close() {
	if p.rows != nil {
		p.rows.Close()
	}
	p.cancel(nil)
}

func newConn(s *Server, nc net.Conn) *conn {
	id := s.connID.Add(1)
	info := &ConnInfo{RemoteAddr: nc.RemoteAddr(), ConnectedAt: time.Now()}
	ctx, stop := context.WithCancel(context.WithValue(s.ctx, connInfoKey{}, info))
	c := &conn{
		srv:     s,
		raw:     nc,
		nc:      nc,
		log:     s.log.With("conn", id, "remote", nc.RemoteAddr().String()),
		info:    info,
		ctx:     ctx,
		stop:    stop,
		stmts:   map[string]*prepared{},
		portals: map[string]*portal{},
	}
	// Statements may ask which statements are prepared (StatementPrepared).
	c.ctx = context.WithValue(c.ctx, preparedKey{}, c.isPrepared)
	c.enc.types = pgtype.NewMap()
	c.enc.loc = time.UTC
	return c
}

// run serves the connection from its first byte to its end.
func (c *conn) run() {
	defer c.finish()
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("pgwire: panic serving a connection", "panic", r, "stack", string(debug.Stack()))
			c.sendFatal(&Error{Severity: "FATAL", Code: "XX000", Message: "internal error"})
		}
	}()
	c.log.Debug("pgwire: connection opened")
	if err := c.open(); err != nil {
		c.end(err)
		return
	}
	c.end(c.serve())
}

// finish releases everything the connection holds.
func (c *conn) finish() {
	for _, p := range c.portals {
		p.close()
	}
	if c.sess != nil {
		c.sess.Close()
	}
	c.stop()
	c.nc.Close()
	c.log.Debug("pgwire: connection closed")
}

// end reports why the connection ends, to the client when it can still hear it.
func (c *conn) end(err error) {
	var pe *Error
	switch {
	case c.srv.closing.Load():
		c.sendFatal(&Error{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"})
	case err == nil, errors.Is(err, errQuietClose):
	case errors.As(err, &pe):
		if pe.Code == "08P01" || pe.Code == "XX000" {
			c.log.Warn("pgwire: closing connection", "code", pe.Code, "err", pe.Message)
		} else {
			c.log.Info("pgwire: closing connection", "code", pe.Code, "err", pe.Message)
		}
		c.sendFatal(pe)
	default:
		c.log.Debug("pgwire: connection lost", "err", err)
	}
}

// sendFatal writes e as a FATAL error with a short deadline of its own: the client may
// not be reading.
func (c *conn) sendFatal(e *Error) {
	fe := *e
	fe.Severity = "FATAL"
	_ = c.raw.SetWriteDeadline(time.Now().Add(time.Second))
	if c.be == nil {
		buf, err := errorResponse(&fe).Encode(nil)
		if err == nil {
			_, _ = c.nc.Write(buf)
		}
		return
	}
	c.send(errorResponse(&fe))
	_ = c.flush()
}

// interrupt wakes the connection's goroutine out of a read or write, for Server.Close.
func (c *conn) interrupt() {
	_ = c.raw.SetDeadline(time.Now())
}

// setDeadline sets the connection's deadline, unless the server is closing: then the
// deadline is now, so that Close's interrupt is never overwritten.
func (c *conn) setDeadline(t time.Time) {
	_ = c.raw.SetDeadline(t)
	if c.srv.closing.Load() {
		_ = c.raw.SetDeadline(time.Now())
	}
}

// open runs the startup and authentication, and sends the session's parameters.
func (c *conn) open() error {
	deadline := time.Now().Add(c.srv.opt.AuthTimeout)
	c.setDeadline(deadline)
	// The Handler's login calls are bounded by the same deadline as the client's messages.
	authCtx, cancel := context.WithDeadline(c.ctx, deadline)
	defer cancel()
	params, err := c.startup()
	if err != nil {
		return err
	}
	c.rd = &recordingReader{r: c.nc}
	c.be = pgproto3.NewBackend(c.rd, c.nc)
	c.be.SetMaxBodyLen(maxAuthMessageSize)
	if c.negotiate != nil {
		c.send(c.negotiate)
	}

	user, database := params["user"], params["database"]
	if user == "" {
		return &Error{Severity: "FATAL", Code: "28000", Message: "no PostgreSQL user name specified in startup packet"}
	}
	if database == "" {
		database = user
	}
	if r, ok := params["replication"]; ok && r != "false" && r != "off" && r != "no" && r != "0" {
		return &Error{Severity: "FATAL", Code: "0A000", Message: "replication connections are not supported"}
	}
	c.info.Startup = params
	c.info.Options = parseOptions(params["options"])
	c.log = c.log.With("user", user, "database", database)

	if err := c.authenticate(authCtx, user, database); err != nil {
		var pe *Error
		if c.srv.opt.AuthFailed != nil && errors.As(err, &pe) {
			c.srv.opt.AuthFailed(authCtx, user, database, pe)
		}
		return err
	}
	if !c.srv.register(c) {
		return &Error{Severity: "FATAL", Code: "53300", Message: "sorry, too many clients already"}
	}
	c.info.ProcessID = c.pid
	c.log = c.log.With("pid", c.pid)
	sess, err := c.srv.opt.Handler.NewSession(authCtx, user, database)
	if err != nil {
		return fatal(c.classify(err, nil))
	}
	c.sess = sess
	c.send(&pgproto3.AuthenticationOk{})
	c.reported = map[string]string{}
	c.reportParameters()
	c.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret[:]})
	c.send(&pgproto3.ReadyForQuery{TxStatus: c.sess.TxStatus()})
	if err := c.flush(); err != nil {
		return err
	}
	c.be.SetMaxBodyLen(c.srv.opt.MaxMessageSize)
	c.setDeadline(time.Time{})
	c.log.Info("pgwire: session opened", "method", c.authMech, "tls", c.tls, "application_name", params["application_name"])
	return nil
}

// reportParameters sends ParameterStatus for every session parameter that differs from
// what the client was last told.
func (c *conn) reportParameters() {
	params := c.sess.Parameters()
	for _, k := range slices.Sorted(maps.Keys(params)) {
		v := params[k]
		if old, ok := c.reported[k]; ok && old == v {
			continue
		}
		c.reported[k] = v
		c.send(&pgproto3.ParameterStatus{Name: cstring(k), Value: cstring(v)})
		if k == "TimeZone" {
			if loc, err := loadLocation(v); err == nil {
				c.enc.loc = loc
			}
		}
	}
}

// serve reads and answers messages until the connection ends.
func (c *conn) serve() error {
	for {
		deadline := time.Time{}
		if t := c.srv.opt.IdleTimeout; t > 0 {
			deadline = time.Now().Add(t)
		}
		c.setDeadline(deadline)
		msg, err := c.receive()
		if err != nil {
			if c.rd.timedOut() && !c.srv.closing.Load() {
				if c.sess.TxStatus() != 'I' {
					return &Error{Severity: "FATAL", Code: "25P03", Message: "terminating connection due to idle-in-transaction timeout"}
				}
				return &Error{Severity: "FATAL", Code: "57P05", Message: "terminating connection due to idle-session timeout"}
			}
			return err
		}
		_ = c.raw.SetDeadline(time.Time{})
		if c.srv.closing.Load() {
			return errQuietClose
		}
		if c.skipTillSync {
			// After an error in an extended-protocol exchange everything up to Sync is
			// discarded, as PostgreSQL does.
			switch msg.(type) {
			case *pgproto3.Sync:
			case *pgproto3.Terminate:
				return nil
			default:
				continue
			}
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			err = c.simpleQuery(m.String)
		case *pgproto3.Parse:
			err = c.parse(m)
		case *pgproto3.Bind:
			err = c.bind(m)
		case *pgproto3.Describe:
			err = c.describe(m)
		case *pgproto3.Execute:
			err = c.execute(m)
		case *pgproto3.Sync:
			c.skipTillSync = false
			err = c.readyForQuery()
		case *pgproto3.Flush:
			err = c.flush()
		case *pgproto3.Close:
			err = c.closeMsg(m)
		case *pgproto3.Terminate:
			return nil
		case *pgproto3.FunctionCall:
			if err = c.sendError(&Error{Code: "0A000", Message: "the function call protocol is not supported"}); err == nil {
				err = c.readyForQuery()
			}
		case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
			// Accepted and ignored outside COPY, per the protocol: a client may still be
			// sending data for a COPY that failed.
		default:
			return protocolViolation(fmt.Sprintf("unexpected message %T", msg))
		}
		if err != nil {
			return err
		}
	}
}

// receive reads one message. A failed read is errQuietClose (the client went away or
// the deadline passed) or a FATAL protocol violation.
func (c *conn) receive() (pgproto3.FrontendMessage, error) {
	msg, err := c.be.Receive()
	if err == nil {
		return msg, nil
	}
	if c.rd.err != nil {
		return nil, errQuietClose
	}
	var tooLong *pgproto3.ExceededMaxBodyLenErr
	if errors.As(err, &tooLong) {
		return nil, protocolViolation(fmt.Sprintf("invalid message length: %d bytes is over the limit of %d", tooLong.ActualBodyLen, tooLong.MaxExpectedBodyLen))
	}
	msgText := strings.TrimSpace(err.Error())
	if t, ok := strings.CutPrefix(msgText, "unknown message type: "); ok {
		// pgproto3 formats the type byte with %c: read it back as a rune.
		r, _ := utf8.DecodeRuneInString(t)
		msgText = fmt.Sprintf("invalid frontend message type %d", r)
	}
	return nil, protocolViolation(msgText)
}

func (c *conn) send(msg pgproto3.BackendMessage) {
	c.be.Send(msg)
}

func (c *conn) flush() error {
	c.pending = 0
	if err := c.be.Flush(); err != nil {
		return errQuietClose
	}
	return nil
}

func (c *conn) readyForQuery() error {
	if c.sess.TxStatus() == 'I' {
		// The implicit transaction has ended, and with it every portal.
		c.closePortals()
	}
	c.reportParameters()
	c.send(&pgproto3.ReadyForQuery{TxStatus: c.sess.TxStatus()})
	return c.flush()
}

func (c *conn) closePortals() {
	for name, p := range c.portals {
		p.close()
		delete(c.portals, name)
	}
}

// sendError sends a statement's error. A FATAL one ends the connection.
func (c *conn) sendError(e *Error) error {
	if e.Severity == "FATAL" {
		return e
	}
	c.send(errorResponse(e))
	return nil
}

// extError sends an error of the extended protocol and discards messages until Sync.
// Like PostgreSQL it flushes the error at once: a client waiting on a Flush learns of it
// without sending Sync.
func (c *conn) extError(e *Error) error {
	c.skipTillSync = true
	if err := c.sendError(e); err != nil {
		return err
	}
	return c.flush()
}

// statementError turns the error of running a statement under ctx into what the client
// is sent, and logs the ones that are the server's fault.
func (c *conn) statementError(err error, ctx context.Context) *Error {
	if c.srv.closing.Load() && c.srv.ctx.Err() != nil {
		return &Error{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"}
	}
	e := c.classify(err, ctx)
	if strings.HasPrefix(e.Code, "XX") {
		c.log.Error("pgwire: statement failed", "code", e.Code, "err", err)
	} else {
		c.log.Debug("pgwire: statement failed", "code", e.Code, "err", err)
	}
	return e
}

// begin makes ctx's cancel the one a CancelRequest and the statement timeout act on,
// until the returned function is called.
func (c *conn) begin(cancel context.CancelCauseFunc) (end func()) {
	c.mu.Lock()
	c.running = cancel
	c.mu.Unlock()
	var timer *time.Timer
	if t := c.srv.opt.StatementTimeout; t > 0 {
		timer = time.AfterFunc(t, func() { cancel(errStatementTimeout()) })
	}
	return func() {
		if timer != nil {
			timer.Stop()
		}
		c.mu.Lock()
		c.running = nil
		c.mu.Unlock()
	}
}

func (c *conn) cancelRunning(cause error) {
	c.mu.Lock()
	cancel := c.running
	c.mu.Unlock()
	if cancel != nil {
		cancel(cause)
	}
}

// recordingReader remembers the first error of the connection's reads, which tells a
// client gone away (or a deadline) from a malformed message in pgproto3's errors.
type recordingReader struct {
	r   io.Reader
	err error
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

func (r *recordingReader) timedOut() bool {
	return errors.Is(r.err, os.ErrDeadlineExceeded)
}
