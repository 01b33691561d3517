package pgwire

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/jackc/pgx/v5/pgtype"
)

// fakeHandler serves a few canned statements, enough to exercise the protocol:
//
//	SELECT 1                 one int4 row
//	SELECT * FROM types      a row of every common type, then a row of NULLs
//	ECHO int8,text,...       returns its parameters ($1, $2, ...) of those types as a row
//	SERIES n                 int8 rows 1..n
//	SET name = value         changes a session parameter
//	BEGIN / COMMIT           transaction status
//	SLOW                     blocks until its context ends
//	SLOWROWS                 one row, then blocks in Next until its context ends
//	ERROR, INVALID, INTERNAL, ROWSERR, PANIC   the kinds of failure
//
// Anything else is a syntax error.
type fakeHandler struct {
	users    map[string]string
	prepares atomic.Int64
	running  chan struct{} // receives when SLOW starts
}

func newFakeHandler() *fakeHandler {
	return &fakeHandler{
		users:   map[string]string{"u": "pw", "ü": "pässwörd"},
		running: make(chan struct{}, 16),
	}
}

func (h *fakeHandler) Password(ctx context.Context, user, database string) (string, error) {
	if _, ok := ConnInfoFromContext(ctx); !ok {
		return "", errors.New("no ConnInfo in the context")
	}
	switch user {
	case "blocked":
		return "", &Error{Code: "28000", Message: `role "blocked" is not permitted to log in`}
	case "forbidden":
		return "", &errs.Error{Kind: errs.KindForbidden, Message: "user forbidden may not use database " + database}
	}
	pw, ok := h.users[user]
	if !ok {
		return "", &errs.Error{Kind: errs.KindUnauthenticated, Message: "unknown user " + user}
	}
	return pw, nil
}

func (h *fakeHandler) NewSession(ctx context.Context, user, database string) (Session, error) {
	if database == "nodb" {
		return nil, &Error{Code: "3D000", Message: `database "nodb" does not exist`}
	}
	info, ok := ConnInfoFromContext(ctx)
	if !ok {
		return nil, errors.New("no ConnInfo in the context")
	}
	return &fakeSession{h: h, params: StartupParameters(info), tx: 'I'}, nil
}

type fakeSession struct {
	h      *fakeHandler
	params map[string]string
	tx     byte
}

func (s *fakeSession) Prepare(ctx context.Context, sql string, paramTypes []uint32) (Statement, error) {
	s.h.prepares.Add(1)
	return s.statement(strings.TrimSpace(sql), paramTypes)
}

func (s *fakeSession) PrepareAll(ctx context.Context, sql string) ([]Statement, error) {
	var out []Statement
	for _, part := range strings.Split(sql, ";") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		st, err := s.statement(part, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *fakeSession) Parameters() map[string]string { return s.params }
func (s *fakeSession) TxStatus() byte                { return s.tx }

// EndQuery fails an open transaction block when the query failed, as a Session should.
func (s *fakeSession) EndQuery(failed bool) {
	if failed && s.tx == 'T' {
		s.tx = 'E'
	}
}

func (s *fakeSession) Close() {}

type fakeStmt struct {
	params []uint32
	cols   []Column
	exec   func(ctx context.Context, params []any) (Rows, error)
}

func (f *fakeStmt) ParamTypes() []uint32 { return f.params }
func (f *fakeStmt) Columns() []Column    { return f.cols }
func (f *fakeStmt) Execute(ctx context.Context, params []any) (Rows, error) {
	return f.exec(ctx, params)
}

// sliceRows streams rows from a slice; next, when set, produces them instead.
type sliceRows struct {
	rows   [][]any
	i      int
	tag    string
	err    error
	next   func() ([]any, bool)
	closed bool
}

func (r *sliceRows) Next() ([]any, bool) {
	if r.next != nil {
		return r.next()
	}
	if r.i >= len(r.rows) {
		return nil, false
	}
	r.i++
	return r.rows[r.i-1], true
}
func (r *sliceRows) Err() error { return r.err }
func (r *sliceRows) Tag() string {
	if r.tag != "" {
		return r.tag
	}
	return fmt.Sprintf("SELECT %d", r.i)
}
func (r *sliceRows) Close() { r.closed = true }

// deallocRows are the rows of DEALLOCATE: a Deallocation.
type deallocRows struct {
	sliceRows
	name string
	all  bool
}

func (d *deallocRows) Deallocate() (string, bool) { return d.name, d.all }

var typeOIDs = map[string]uint32{
	"int2": pgtype.Int2OID, "int4": pgtype.Int4OID, "int8": pgtype.Int8OID,
	"float4": pgtype.Float4OID, "float8": pgtype.Float8OID, "numeric": pgtype.NumericOID,
	"bool": pgtype.BoolOID, "text": pgtype.TextOID, "varchar": pgtype.VarcharOID,
	"date": pgtype.DateOID, "timestamp": pgtype.TimestampOID, "timestamptz": pgtype.TimestamptzOID,
	"bytea": pgtype.ByteaOID, "uuid": pgtype.UUIDOID, "unknown": 0,
}

// typesColumns and typesRow are the table "types": one column of every common type.
var typesColumns = []string{"int2", "int4", "int8", "float4", "float8", "numeric", "bool", "text", "varchar",
	"date", "timestamp", "timestamptz", "bytea", "uuid"}

func typesRow() []any {
	return []any{
		int64(-32768), int64(2147483647), int64(math.MaxInt64), float64(1.5), 3.141592653589793,
		"12345678901234567890.123456789", true, "héllo 'wörld' \\ \"q\"", "v",
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC),
		time.Date(2024, 1, 2, 3, 4, 5, 654321000, time.UTC),
		[]byte{0, 1, 2, 0xff, '\\'},
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
	}
}

func (s *fakeSession) statement(sql string, declared []uint32) (Statement, error) {
	upper := strings.ToUpper(sql)
	one := func(cols []Column, row []any) *fakeStmt {
		return &fakeStmt{cols: cols, exec: func(context.Context, []any) (Rows, error) {
			return &sliceRows{rows: [][]any{row}}, nil
		}}
	}
	switch {
	case upper == "SELECT 1":
		return one([]Column{{Name: "?column?", Type: pgtype.Int4OID}}, []any{int64(1)}), nil
	case upper == "SELECT * FROM TYPES":
		var cols []Column
		for i, name := range typesColumns {
			cols = append(cols, Column{Name: "c_" + name, Type: typeOIDs[name], TableOID: 16384, Attr: uint16(i + 1)})
		}
		return &fakeStmt{cols: cols, exec: func(context.Context, []any) (Rows, error) {
			return &sliceRows{rows: [][]any{typesRow(), make([]any, len(cols))}}, nil
		}}, nil
	case strings.HasPrefix(upper, "ECHO "):
		var types []uint32
		var cols []Column
		for i, name := range strings.Split(strings.TrimSpace(sql[5:]), ",") {
			oid, ok := typeOIDs[strings.TrimSpace(name)]
			if !ok {
				return nil, &Error{Code: "42704", Message: fmt.Sprintf("type %q does not exist", name)}
			}
			if oid == 0 && i < len(declared) {
				oid = declared[i]
			}
			types = append(types, oid)
			cols = append(cols, Column{Name: fmt.Sprintf("p%d", i+1), Type: oid})
		}
		return &fakeStmt{params: types, cols: cols, exec: func(_ context.Context, params []any) (Rows, error) {
			return &sliceRows{rows: [][]any{params}}, nil
		}}, nil
	case strings.HasPrefix(upper, "SERIES "):
		n, err := strconv.Atoi(strings.TrimSpace(sql[7:]))
		if err != nil {
			return nil, &Error{Code: "42601", Message: "bad series"}
		}
		return &fakeStmt{cols: []Column{{Name: "n", Type: pgtype.Int8OID}}, exec: func(context.Context, []any) (Rows, error) {
			rows := make([][]any, n)
			for i := range rows {
				rows[i] = []any{int64(i + 1)}
			}
			return &sliceRows{rows: rows}, nil
		}}, nil
	case strings.HasPrefix(upper, "SET "):
		name, value, ok := strings.Cut(sql[4:], "=")
		if !ok {
			name, value, ok = strings.Cut(sql[4:], " TO ")
		}
		if !ok {
			return nil, &Error{Code: "42601", Message: "syntax error in SET"}
		}
		name, value = strings.TrimSpace(name), strings.Trim(strings.TrimSpace(value), "'")
		return &fakeStmt{exec: func(context.Context, []any) (Rows, error) {
			if strings.EqualFold(name, "timezone") {
				name = "TimeZone"
			}
			s.params[name] = value
			return Done("SET"), nil
		}}, nil
	case strings.HasPrefix(upper, "DEALLOCATE "):
		name := strings.TrimSpace(sql[len("DEALLOCATE "):])
		return &fakeStmt{exec: func(context.Context, []any) (Rows, error) {
			if strings.EqualFold(name, "ALL") {
				return &deallocRows{sliceRows: sliceRows{tag: "DEALLOCATE ALL"}, all: true}, nil
			}
			return &deallocRows{sliceRows: sliceRows{tag: "DEALLOCATE"}, name: name}, nil
		}}, nil
	case upper == "BEGIN":
		return &fakeStmt{exec: func(context.Context, []any) (Rows, error) { s.tx = 'T'; return Done("BEGIN"), nil }}, nil
	case upper == "COMMIT":
		return &fakeStmt{exec: func(context.Context, []any) (Rows, error) { s.tx = 'I'; return Done("COMMIT"), nil }}, nil
	case upper == "NOROWS":
		return &fakeStmt{exec: func(context.Context, []any) (Rows, error) { return nil, nil }}, nil
	case upper == "SLOW":
		return &fakeStmt{cols: []Column{{Name: "x", Type: pgtype.Int4OID}}, exec: func(ctx context.Context, _ []any) (Rows, error) {
			select {
			case s.h.running <- struct{}{}:
			default:
			}
			<-ctx.Done()
			return nil, ctx.Err()
		}}, nil
	case upper == "SLOWROWS":
		return &fakeStmt{cols: []Column{{Name: "x", Type: pgtype.Int4OID}}, exec: func(ctx context.Context, _ []any) (Rows, error) {
			r := &sliceRows{}
			r.next = func() ([]any, bool) {
				if r.i == 0 {
					r.i++
					return []any{int64(1)}, true
				}
				select {
				case s.h.running <- struct{}{}:
				default:
				}
				<-ctx.Done()
				r.err = ctx.Err()
				return nil, false
			}
			return r, nil
		}}, nil
	case upper == "ERROR":
		return &fakeStmt{cols: []Column{{Name: "x", Type: pgtype.Int4OID}}, exec: func(context.Context, []any) (Rows, error) {
			return nil, &Error{Code: "42P01", Message: `relation "nope" does not exist`, Hint: "Look elsewhere.", Detail: "Some detail.", Position: 15}
		}}, nil
	case upper == "INVALID":
		return nil, errs.UnknownMember("column", "orders.stauts", []string{"orders.status"})
	case upper == "INTERNAL":
		return &fakeStmt{exec: func(context.Context, []any) (Rows, error) {
			return nil, errors.New("boom: secret detail")
		}}, nil
	case upper == "ROWSERR":
		return &fakeStmt{cols: []Column{{Name: "n", Type: pgtype.Int8OID}}, exec: func(context.Context, []any) (Rows, error) {
			return &sliceRows{rows: [][]any{{int64(1)}, {int64(2)}}, err: &errs.Error{Kind: errs.KindSource, Message: "warehouse said no"}}, nil
		}}, nil
	case upper == "BADROW":
		return &fakeStmt{cols: []Column{{Name: "n", Type: pgtype.Int8OID}}, exec: func(context.Context, []any) (Rows, error) {
			return &sliceRows{rows: [][]any{{int64(1), int64(2)}}}, nil
		}}, nil
	case upper == "PANIC":
		return &fakeStmt{exec: func(context.Context, []any) (Rows, error) { panic("fake handler panics") }}, nil
	}
	return nil, &Error{Code: "42601", Message: fmt.Sprintf("syntax error at or near %q", strings.Fields(sql + " x")[0]), Position: 1}
}

// testServer is a Server on a loopback listener.
type testServer struct {
	*Server
	addr    string
	h       *fakeHandler
	logs    *syncBuffer
	serveCh chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startServer(t testing.TB, opt Options) *testServer {
	t.Helper()
	h := newFakeHandler()
	if opt.Handler == nil {
		opt.Handler = h
	}
	logs := &syncBuffer{}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: NewServer(opt), addr: ln.Addr().String(), h: h, logs: logs, serveCh: make(chan error, 1)}
	go func() { ts.serveCh <- ts.Serve(ln) }()
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() { ts.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("Server.Close did not return")
		}
		if err := <-ts.serveCh; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return ts
}

func (ts *testServer) port() string {
	_, p, _ := net.SplitHostPort(ts.addr)
	return p
}

// selfSignedTLS returns a server configuration with a fresh self-signed certificate for
// 127.0.0.1.
func selfSignedTLS(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "cubit-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}
