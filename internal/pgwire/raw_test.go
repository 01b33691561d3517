package pgwire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
)

// rawClient is a protocol-level client: it sends frontend messages and reads backend
// messages one by one, so that tests can assert the exact sequence.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	fe *pgproto3.Frontend
}

// rawServer starts a server that takes cleartext passwords without TLS, so that raw
// clients need no SCRAM.
func rawServer(t *testing.T, opt Options) *testServer {
	opt.AuthMethod, opt.AllowCleartext = AuthPassword, true
	return startServer(t, opt)
}

func dial(t *testing.T, ts *testServer) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawClient{t: t, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
}

// rawConnect dials and logs in as u, reading up to the first ReadyForQuery.
func rawConnect(t *testing.T, ts *testServer) *rawClient {
	t.Helper()
	c := dial(t, ts)
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30,
		Parameters: map[string]string{"user": "u", "database": "db"}})
	c.expect("R") // AuthenticationCleartextPassword
	c.send(&pgproto3.PasswordMessage{Password: "pw"})
	msgs := c.expectUntilReady()
	if !strings.HasPrefix(msgs, "R") || !strings.HasSuffix(msgs, "KZ") {
		t.Fatalf("login sequence %q", msgs)
	}
	return c
}

func (c *rawClient) send(msgs ...pgproto3.FrontendMessage) {
	c.t.Helper()
	for _, m := range msgs {
		c.fe.Send(m)
	}
	if err := c.fe.Flush(); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// receive returns the next message and its type letter.
func (c *rawClient) receive() (pgproto3.BackendMessage, byte) {
	c.t.Helper()
	m, err := c.fe.Receive()
	if err != nil {
		c.t.Fatalf("receive: %v", err)
	}
	return m, msgType(m)
}

func msgType(m pgproto3.BackendMessage) byte {
	switch m.(type) {
	case *pgproto3.AuthenticationOk, *pgproto3.AuthenticationCleartextPassword, *pgproto3.AuthenticationMD5Password,
		*pgproto3.AuthenticationSASL, *pgproto3.AuthenticationSASLContinue, *pgproto3.AuthenticationSASLFinal:
		return 'R'
	case *pgproto3.ParameterStatus:
		return 'S'
	case *pgproto3.BackendKeyData:
		return 'K'
	case *pgproto3.ReadyForQuery:
		return 'Z'
	case *pgproto3.ParseComplete:
		return '1'
	case *pgproto3.BindComplete:
		return '2'
	case *pgproto3.CloseComplete:
		return '3'
	case *pgproto3.ParameterDescription:
		return 't'
	case *pgproto3.RowDescription:
		return 'T'
	case *pgproto3.NoData:
		return 'n'
	case *pgproto3.DataRow:
		return 'D'
	case *pgproto3.CommandComplete:
		return 'C'
	case *pgproto3.EmptyQueryResponse:
		return 'I'
	case *pgproto3.PortalSuspended:
		return 's'
	case *pgproto3.ErrorResponse:
		return 'E'
	case *pgproto3.NoticeResponse:
		return 'N'
	case *pgproto3.NegotiateProtocolVersion:
		return 'v'
	}
	return '?'
}

// expect reads len(types) messages and checks their type letters; it returns them.
func (c *rawClient) expect(types string) []pgproto3.BackendMessage {
	c.t.Helper()
	var got []byte
	var msgs []pgproto3.BackendMessage
	for range types {
		m, ty := c.receive()
		got = append(got, ty)
		msgs = append(msgs, copyMsg(m))
		if ty == 'E' && !strings.Contains(types, "E") {
			c.t.Fatalf("got %q so far, want %q: error %+v", got, types, m)
		}
	}
	if string(got) != types {
		c.t.Fatalf("got messages %q, want %q (%+v)", got, types, msgs)
	}
	return msgs
}

// expectUntilReady reads messages up to and including ReadyForQuery and returns their
// type letters.
func (c *rawClient) expectUntilReady() string {
	c.t.Helper()
	var got []byte
	for {
		_, ty := c.receive()
		got = append(got, ty)
		if ty == 'Z' {
			return string(got)
		}
	}
}

// copyMsg copies the messages whose fields the next Receive would overwrite.
func copyMsg(m pgproto3.BackendMessage) pgproto3.BackendMessage {
	switch v := m.(type) {
	case *pgproto3.ErrorResponse:
		e := *v
		return &e
	case *pgproto3.DataRow:
		d := &pgproto3.DataRow{}
		for _, b := range v.Values {
			if b == nil {
				d.Values = append(d.Values, nil)
			} else {
				d.Values = append(d.Values, append([]byte{}, b...))
			}
		}
		return d
	case *pgproto3.CommandComplete:
		return &pgproto3.CommandComplete{CommandTag: append([]byte{}, v.CommandTag...)}
	case *pgproto3.ReadyForQuery:
		r := *v
		return &r
	case *pgproto3.ParameterDescription:
		return &pgproto3.ParameterDescription{ParameterOIDs: append([]uint32{}, v.ParameterOIDs...)}
	case *pgproto3.RowDescription:
		r := &pgproto3.RowDescription{}
		for _, f := range v.Fields {
			f.Name = append([]byte{}, f.Name...)
			r.Fields = append(r.Fields, f)
		}
		return r
	}
	return m
}

func errCode(m pgproto3.BackendMessage) string {
	if e, ok := m.(*pgproto3.ErrorResponse); ok {
		return e.Code
	}
	return ""
}

// expectClosed checks that the server closes the connection (after whatever it sent).
func (c *rawClient) expectClosed() {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, err := c.fe.Receive()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatalf("server did not close the connection")
			}
			return
		}
	}
}

// expectFatal reads an ErrorResponse with severity FATAL and code, then the close.
func (c *rawClient) expectFatal(code string) *pgproto3.ErrorResponse {
	c.t.Helper()
	m, ty := c.receive()
	e, ok := m.(*pgproto3.ErrorResponse)
	if ty != 'E' || !ok || e.Code != code || e.Severity != "FATAL" {
		c.t.Fatalf("got %c %+v, want FATAL %s", ty, m, code)
	}
	e = copyMsg(e).(*pgproto3.ErrorResponse)
	c.expectClosed()
	return e
}

func TestExtendedProtocolOrdering(t *testing.T) {
	ts := rawServer(t, Options{})
	c := rawConnect(t, ts)

	t.Run("parse-bind-describe-execute-sync", func(t *testing.T) {
		c.t = t
		c.send(&pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{}, &pgproto3.Sync{})
		msgs := c.expect("12TDCZ")
		if tag := string(msgs[4].(*pgproto3.CommandComplete).CommandTag); tag != "SELECT 1" {
			t.Errorf("tag %q", tag)
		}
		if s := msgs[5].(*pgproto3.ReadyForQuery).TxStatus; s != 'I' {
			t.Errorf("tx status %c", s)
		}
	})
	t.Run("describe-statement", func(t *testing.T) {
		c.t = t
		c.send(&pgproto3.Parse{Name: "e", Query: "ECHO int4,text,unknown", ParameterOIDs: []uint32{0, 0, 1082}},
			&pgproto3.Describe{ObjectType: 'S', Name: "e"}, &pgproto3.Sync{})
		msgs := c.expect("1tTZ")
		if got := msgs[1].(*pgproto3.ParameterDescription).ParameterOIDs; !reflect.DeepEqual(got, []uint32{23, 25, 1082}) {
			t.Errorf("parameter types %v", got)
		}
		fields := msgs[2].(*pgproto3.RowDescription).Fields
		if len(fields) != 3 || fields[0].DataTypeOID != 23 || fields[0].DataTypeSize != 4 || fields[1].DataTypeSize != -1 || fields[0].Format != 0 {
			t.Errorf("row description %+v", fields)
		}
		// A statement without rows is described with NoData.
		c.send(&pgproto3.Parse{Name: "set", Query: "SET a = b"}, &pgproto3.Describe{ObjectType: 'S', Name: "set"},
			&pgproto3.Bind{PreparedStatement: "set"}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{})
		c.expect("1tn2nCSZ") // the SET changed parameter "a": ParameterStatus before ReadyForQuery
	})
	t.Run("binary-params-and-results", func(t *testing.T) {
		c.t = t
		c.send(&pgproto3.Bind{PreparedStatement: "e", ParameterFormatCodes: []int16{1, 0, 0},
			Parameters:        [][]byte{{0, 0, 1, 0}, []byte("x"), []byte("2024-03-01")},
			ResultFormatCodes: []int16{1, 0, 1}},
			&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{})
		msgs := c.expect("2TDCZ")
		fields := msgs[1].(*pgproto3.RowDescription).Fields
		if fields[0].Format != 1 || fields[1].Format != 0 || fields[2].Format != 1 {
			t.Errorf("formats %+v", fields)
		}
		row := msgs[2].(*pgproto3.DataRow).Values
		if !reflect.DeepEqual(row, [][]byte{{0, 0, 1, 0}, []byte("x"), {0, 0, 0x22, 0x7a}}) {
			t.Errorf("row %v", row)
		}
	})
	t.Run("error-skips-until-sync", func(t *testing.T) {
		c.t = t
		c.send(&pgproto3.Parse{Query: "BOGUS"}, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{}, &pgproto3.Sync{})
		msgs := c.expect("EZ")
		if errCode(msgs[0]) != "42601" {
			t.Errorf("error %+v", msgs[0])
		}
		// An Execute that fails: the rest of the pipeline up to Sync is skipped, also a
		// Query, and the next Sync gets one ReadyForQuery.
		c.send(&pgproto3.Parse{Query: "ERROR"}, &pgproto3.Bind{}, &pgproto3.Execute{},
			&pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Query{String: "SELECT 1"},
			&pgproto3.Sync{}, &pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
		msgs = c.expect("12EZ12DCZ")
		if e := msgs[2].(*pgproto3.ErrorResponse); e.Code != "42P01" || e.Severity != "ERROR" || e.Hint != "Look elsewhere." {
			t.Errorf("error %+v", e)
		}
		// Execute of a portal that does not exist.
		c.send(&pgproto3.Execute{Portal: "nope"}, &pgproto3.Sync{})
		if msgs := c.expect("EZ"); errCode(msgs[0]) != "34000" {
			t.Errorf("error %+v", msgs[0])
		}
		// Bind of a statement that does not exist, and a wrong parameter count.
		c.send(&pgproto3.Bind{PreparedStatement: "nope"}, &pgproto3.Sync{}, &pgproto3.Bind{PreparedStatement: "e"}, &pgproto3.Sync{})
		if msgs := c.expect("EZEZ"); errCode(msgs[0]) != "26000" || errCode(msgs[2]) != "08P01" {
			t.Errorf("errors %+v %+v", msgs[0], msgs[2])
		}
	})
	t.Run("bad-parameters", func(t *testing.T) {
		c.t = t
		c.send(&pgproto3.Parse{Name: "p8", Query: "ECHO int2,date,uuid,bool,numeric"}, &pgproto3.Sync{})
		c.expect("1Z")
		good := [][]byte{[]byte("1"), []byte("2024-01-01"), []byte("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), []byte("yes"), []byte("1.5e3")}
		for i, bad := range [][]byte{[]byte("70000"), []byte("2024-02-30"), []byte("zz"), []byte("maybe"), []byte("1.2.3")} {
			params := append([][]byte{}, good...)
			params[i] = bad
			c.send(&pgproto3.Bind{PreparedStatement: "p8", Parameters: params}, &pgproto3.Execute{}, &pgproto3.Sync{})
			msgs := c.expect("EZ")
			want := map[int]string{0: "22003", 1: "22007", 2: "22P02", 3: "22P02", 4: "22P02"}[i]
			if errCode(msgs[0]) != want {
				t.Errorf("parameter %d = %q: %+v", i+1, bad, msgs[0])
			}
		}
		// A binary int2 of the wrong length.
		params := append([][]byte{{0, 0, 1}}, good[1:]...)
		c.send(&pgproto3.Bind{PreparedStatement: "p8", ParameterFormatCodes: []int16{1, 0, 0, 0, 0}, Parameters: params}, &pgproto3.Sync{})
		if msgs := c.expect("EZ"); errCode(msgs[0]) != "22P03" {
			t.Errorf("binary int2 of 3 bytes: %+v", msgs[0])
		}
		c.send(&pgproto3.Bind{PreparedStatement: "p8", Parameters: good, ResultFormatCodes: []int16{1, 1}}, &pgproto3.Sync{})
		if msgs := c.expect("EZ"); errCode(msgs[0]) != "08P01" {
			t.Errorf("2 result formats for 5 columns: %+v", msgs[0])
		}
		c.send(&pgproto3.Bind{PreparedStatement: "p8", Parameters: good}, &pgproto3.Execute{}, &pgproto3.Sync{})
		msgs := c.expect("2DCZ")
		row := msgs[1].(*pgproto3.DataRow).Values
		want := []string{"1", "2024-01-01", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "t", "1.5e3"}
		for i, w := range want {
			if string(row[i]) != w {
				t.Errorf("column %d: %q, want %q", i+1, row[i], w)
			}
		}
	})
	t.Run("flush", func(t *testing.T) {
		c.t = t
		c.send(&pgproto3.Parse{Name: "f", Query: "SELECT 1"}, &pgproto3.Flush{})
		c.expect("1")
		// An error is flushed at once, without waiting for Sync.
		c.send(&pgproto3.Parse{Query: "BOGUS"})
		c.expect("E")
		c.send(&pgproto3.Sync{})
		c.expect("Z")
		c.send(&pgproto3.Bind{PreparedStatement: "f"}, &pgproto3.Execute{}, &pgproto3.Flush{})
		c.expect("2DC")
		c.send(&pgproto3.Sync{})
		c.expect("Z")
	})
	t.Run("close", func(t *testing.T) {
		c.t = t
		c.send(&pgproto3.Parse{Name: "c", Query: "SELECT 1"}, &pgproto3.Bind{DestinationPortal: "cp", PreparedStatement: "c"},
			&pgproto3.Close{ObjectType: 'S', Name: "c"}, &pgproto3.Execute{Portal: "cp"},
			&pgproto3.Close{ObjectType: 'P', Name: "cp"}, &pgproto3.Close{ObjectType: 'P', Name: "never"},
			&pgproto3.Close{ObjectType: 'S', Name: "never"}, &pgproto3.Sync{})
		// The portal outlives its statement, as in PostgreSQL.
		c.expect("123DC333Z")
		c.send(&pgproto3.Bind{PreparedStatement: "c"}, &pgproto3.Sync{})
		if msgs := c.expect("EZ"); errCode(msgs[0]) != "26000" {
			t.Errorf("bind of a closed statement: %+v", msgs[0])
		}
		c.send(&pgproto3.Parse{Name: "c", Query: "SELECT 1"}, &pgproto3.Sync{})
		c.expect("1Z")
	})
	t.Run("duplicate-names", func(t *testing.T) {
		c.t = t
		c.send(&pgproto3.Parse{Name: "d", Query: "SELECT 1"}, &pgproto3.Parse{Name: "d", Query: "SELECT 1"}, &pgproto3.Sync{})
		if msgs := c.expect("1EZ"); errCode(msgs[1]) != "42P05" {
			t.Errorf("%+v", msgs[1])
		}
	})
	t.Run("unnamed-replaced", func(t *testing.T) {
		c.t = t
		c.send(&pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Parse{Query: "SERIES 3"}, &pgproto3.Bind{},
			&pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
		c.expect("1122DDDCZ")
		// A failed Parse of the unnamed statement still drops the old one.
		c.send(&pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Sync{}, &pgproto3.Parse{Query: "BOGUS"}, &pgproto3.Sync{},
			&pgproto3.Bind{}, &pgproto3.Sync{})
		if msgs := c.expect("1ZEZEZ"); errCode(msgs[4]) != "26000" {
			t.Errorf("%+v", msgs[4])
		}
	})
	t.Run("portal-suspension", func(t *testing.T) {
		c.t = t
		c.send(&pgproto3.Parse{Query: "SERIES 5"}, &pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 2},
			&pgproto3.Execute{MaxRows: 2}, &pgproto3.Execute{MaxRows: 2}, &pgproto3.Sync{})
		msgs := c.expect("12DDsDDsDCZ")
		if v := string(msgs[8].(*pgproto3.DataRow).Values[0]); v != "5" {
			t.Errorf("last row %q", v)
		}
		// Exactly MaxRows left: suspended, and the next Execute completes with no rows.
		c.send(&pgproto3.Parse{Query: "SERIES 2"}, &pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 2},
			&pgproto3.Execute{MaxRows: 2}, &pgproto3.Sync{})
		c.expect("12DDsCZ")
		// Portals end with the implicit transaction at Sync...
		c.send(&pgproto3.Parse{Query: "SERIES 3"}, &pgproto3.Bind{DestinationPortal: "cur"}, &pgproto3.Execute{Portal: "cur", MaxRows: 1}, &pgproto3.Sync{})
		c.expect("12DsZ")
		c.send(&pgproto3.Execute{Portal: "cur", MaxRows: 1}, &pgproto3.Sync{})
		if msgs := c.expect("EZ"); errCode(msgs[0]) != "34000" {
			t.Errorf("%+v", msgs[0])
		}
		// ...but live on across Syncs inside a transaction block (a JDBC fetch size).
		c.send(&pgproto3.Query{String: "BEGIN"})
		if msgs := c.expect("CZ"); msgs[1].(*pgproto3.ReadyForQuery).TxStatus != 'T' {
			t.Errorf("BEGIN: %+v", msgs[1])
		}
		c.send(&pgproto3.Parse{Query: "SERIES 3"}, &pgproto3.Bind{DestinationPortal: "cur"}, &pgproto3.Execute{Portal: "cur", MaxRows: 2}, &pgproto3.Sync{})
		c.expect("12DDsZ")
		c.send(&pgproto3.Execute{Portal: "cur", MaxRows: 2}, &pgproto3.Sync{})
		c.expect("DCZ")
		c.send(&pgproto3.Query{String: "COMMIT"})
		if msgs := c.expect("CZ"); msgs[1].(*pgproto3.ReadyForQuery).TxStatus != 'I' {
			t.Errorf("COMMIT: %+v", msgs[1])
		}
	})
	t.Run("empty-queries", func(t *testing.T) {
		c.t = t
		c.send(&pgproto3.Query{String: ""})
		c.expect("IZ")
		c.send(&pgproto3.Query{String: " ; ;"})
		c.expect("IZ")
		c.send(&pgproto3.Parse{Query: ""}, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{})
		c.expect("12nIZ")
	})
	t.Run("simple-query", func(t *testing.T) {
		c.t = t
		c.send(&pgproto3.Query{String: "SELECT 1; SET x = 1; SERIES 2"})
		c.expect("TDCCTDDCSZ")
		c.send(&pgproto3.Query{String: "SELECT 1; ERROR; SELECT 1"})
		c.expect("TDCEZ")
		c.send(&pgproto3.Query{String: "SELECT 1; BOGUS"}) // a parse error runs nothing
		c.expect("EZ")
		c.send(&pgproto3.Query{String: "NOROWS"})
		msgs := c.expect("CZ")
		if tag := string(msgs[0].(*pgproto3.CommandComplete).CommandTag); tag != "" {
			t.Errorf("tag %q", tag)
		}
	})
	t.Run("function-call-and-copy", func(t *testing.T) {
		c.t = t
		c.send(&pgproto3.FunctionCall{Function: 1}, &pgproto3.CopyData{Data: []byte("x")}, &pgproto3.CopyDone{})
		if msgs := c.expect("EZ"); errCode(msgs[0]) != "0A000" {
			t.Errorf("%+v", msgs[0])
		}
		c.send(&pgproto3.Query{String: "SELECT 1"})
		c.expect("TDCZ")
	})
	c.t = t
	c.send(&pgproto3.Terminate{})
	c.expectClosed()
}

func TestStartupErrors(t *testing.T) {
	ts := rawServer(t, Options{})
	rawStartup := func(c *rawClient, code uint32, body []byte) {
		b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
		b = binary.BigEndian.AppendUint32(b, code)
		b = append(b, body...)
		if _, err := c.nc.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("protocol-2", func(t *testing.T) {
		c := dial(t, ts)
		rawStartup(c, 2<<16, []byte("user\x00u\x00\x00"))
		e := c.expectFatal("0A000")
		if !strings.Contains(e.Message, "unsupported frontend protocol 2.0") {
			t.Errorf("%q", e.Message)
		}
	})
	t.Run("protocol-4", func(t *testing.T) {
		c := dial(t, ts)
		rawStartup(c, 4<<16, []byte("user\x00u\x00\x00"))
		c.expectFatal("0A000")
	})
	t.Run("protocol-3.2-negotiated-down", func(t *testing.T) {
		c := dial(t, ts)
		rawStartup(c, 3<<16|2, []byte("user\x00u\x00_pq_.x\x00y\x00\x00"))
		m, _ := c.receive()
		npv, ok := m.(*pgproto3.NegotiateProtocolVersion)
		if !ok || npv.NewestMinorProtocol != 0 || !reflect.DeepEqual(npv.UnrecognizedOptions, []string{"_pq_.x"}) {
			t.Fatalf("%+v", m)
		}
		c.expect("R")
		c.send(&pgproto3.PasswordMessage{Password: "pw"})
		c.expectUntilReady()
	})
	t.Run("missing-user", func(t *testing.T) {
		c := dial(t, ts)
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"database": "db"}})
		e := c.expectFatal("28000")
		if !strings.Contains(e.Message, "no PostgreSQL user name") {
			t.Errorf("%q", e.Message)
		}
	})
	t.Run("bad-layout", func(t *testing.T) {
		c := dial(t, ts)
		rawStartup(c, 3<<16, []byte("user\x00u"))
		c.expectFatal("08P01")
	})
	t.Run("startup-length", func(t *testing.T) {
		for _, n := range []uint32{0, 3, 7, 10001, 0x7fffffff, 0xffffffff} {
			c := dial(t, ts)
			if _, err := c.nc.Write(binary.BigEndian.AppendUint32(nil, n)); err != nil {
				t.Fatal(err)
			}
			e := c.expectFatal("08P01")
			if !strings.Contains(e.Message, "invalid length of startup packet") {
				t.Errorf("%d: %q", n, e.Message)
			}
		}
	})
	t.Run("truncated-startup", func(t *testing.T) {
		c := dial(t, ts)
		if _, err := c.nc.Write([]byte{0, 0, 0, 100, 0, 3, 0, 0, 'u'}); err != nil {
			t.Fatal(err)
		}
		c.nc.(*net.TCPConn).CloseWrite()
		c.expectClosed()
	})
	t.Run("ssl-and-gss-refused-without-tls", func(t *testing.T) {
		c := dial(t, ts)
		for _, code := range []uint32{codeGSSENCRequest, codeSSLRequest} {
			rawStartup(c, code, nil)
			var b [1]byte
			if _, err := io.ReadFull(c.nc, b[:]); err != nil || b[0] != 'N' {
				t.Fatalf("answer %q %v", b, err)
			}
		}
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u"}})
		c.expect("R")
		c.send(&pgproto3.PasswordMessage{Password: "pw"})
		c.expectUntilReady()
	})
	t.Run("replication", func(t *testing.T) {
		c := dial(t, ts)
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u", "replication": "database"}})
		c.expectFatal("0A000")
	})
	t.Run("wrong-password-raw", func(t *testing.T) {
		c := dial(t, ts)
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u"}})
		c.expect("R")
		c.send(&pgproto3.PasswordMessage{Password: "nope"})
		c.expectFatal("28P01")
	})
	t.Run("query-instead-of-password", func(t *testing.T) {
		c := dial(t, ts)
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u"}})
		c.expect("R")
		c.send(&pgproto3.Query{String: "SELECT 1"})
		c.expectFatal("08P01")
	})
	t.Run("huge-password-message", func(t *testing.T) {
		c := dial(t, ts)
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u"}})
		c.expect("R")
		if _, err := c.nc.Write([]byte{'p', 0x00, 0x10, 0, 0}); err != nil { // 1 MiB before auth
			t.Fatal(err)
		}
		c.expectFatal("08P01")
	})
	// After all of that, the server still serves.
	rawConnect(t, ts)
}

func TestMalformedMessagesAfterLogin(t *testing.T) {
	ts := rawServer(t, Options{MaxMessageSize: 1 << 20})
	cases := []struct {
		name  string
		bytes []byte
	}{
		{"unknown-type", []byte{'z', 0, 0, 0, 4}},
		{"length-below-4", []byte{'Q', 0, 0, 0, 3}},
		{"negative-length", []byte{'Q', 0xff, 0xff, 0xff, 0xff}},
		{"huge-length", []byte{'Q', 0x7f, 0xff, 0xff, 0xff}},
		{"over-the-cap", []byte{'Q', 0, 0x10, 0, 5}},
		{"password-after-login", []byte{'p', 0, 0, 0, 7, 'a', 'b', 0}},
		{"query-without-terminator", []byte{'Q', 0, 0, 0, 7, 'a', 'b', 'c'}},
		{"bind-count-past-the-end", []byte{'B', 0, 0, 0, 10, 0, 0, 0xff, 0xff, 0, 0}},
		{"execute-short", []byte{'E', 0, 0, 0, 5, 0}},
		{"ssl-request-after-login", binary.BigEndian.AppendUint32([]byte{0, 0, 0, 8}, codeSSLRequest)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			c := rawConnect(t, ts)
			if _, err := c.nc.Write(tc.bytes); err != nil {
				t.Fatal(err)
			}
			e := c.expectFatal("08P01")
			t.Logf("%s: %s", tc.name, e.Message)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 16<<20 {
				t.Errorf("the server allocated %d MiB for a bad length", grown>>20)
			}
		})
	}
	// A well-framed message with a bad field is an ERROR: the connection goes on.
	t.Run("bad-kinds", func(t *testing.T) {
		c := rawConnect(t, ts)
		for _, b := range [][]byte{{'D', 0, 0, 0, 6, 'X', 0}, {'C', 0, 0, 0, 6, 'X', 0}} {
			if _, err := c.nc.Write(b); err != nil {
				t.Fatal(err)
			}
			c.send(&pgproto3.Sync{})
			if msgs := c.expect("EZ"); errCode(msgs[0]) != "08P01" {
				t.Errorf("%+v", msgs[0])
			}
		}
	})
	t.Run("truncated-message", func(t *testing.T) {
		c := rawConnect(t, ts)
		if _, err := c.nc.Write([]byte{'Q', 0, 0, 0, 100, 'S', 'E', 'L'}); err != nil {
			t.Fatal(err)
		}
		c.nc.(*net.TCPConn).CloseWrite()
		c.expectClosed()
	})
	t.Run("garbage", func(t *testing.T) {
		for i, junk := range []string{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", strings.Repeat("\xff", 64)} {
			c := dial(t, ts)
			if _, err := c.nc.Write([]byte(junk)); err != nil {
				t.Fatal(err)
			}
			c.expectClosed()
			_ = i
		}
	})
	// The server still serves.
	c := rawConnect(t, ts)
	c.send(&pgproto3.Query{String: "SELECT 1"})
	c.expect("TDCZ")
}

func TestIdleTimeoutRaw(t *testing.T) {
	ts := rawServer(t, Options{IdleTimeout: 200 * time.Millisecond})
	c := rawConnect(t, ts)
	e := c.expectFatal("57P05")
	if !strings.Contains(e.Message, "idle-session timeout") {
		t.Errorf("%q", e.Message)
	}
	c = rawConnect(t, ts)
	c.send(&pgproto3.Query{String: "BEGIN"})
	c.expect("CZ")
	c.expectFatal("25P03")
}

func TestCancelRequestRaw(t *testing.T) {
	ts := rawServer(t, Options{})
	c := dial(t, ts)
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u"}})
	c.expect("R")
	c.send(&pgproto3.PasswordMessage{Password: "pw"})
	var key *pgproto3.BackendKeyData
	for key == nil {
		m, _ := c.receive()
		if k, ok := m.(*pgproto3.BackendKeyData); ok {
			key = &pgproto3.BackendKeyData{ProcessID: k.ProcessID, SecretKey: append([]byte{}, k.SecretKey...)}
		}
	}
	c.expect("Z")
	cancel := func(pid uint32, secret []byte) {
		cc := dial(t, ts)
		cc.send(&pgproto3.CancelRequest{ProcessID: pid, SecretKey: secret})
		cc.expectClosed()
	}
	// Portal-suspended statements are canceled too: the cancel reaches the running Execute.
	c.send(&pgproto3.Query{String: "SLOW"})
	<-ts.h.running
	wrong := append([]byte{}, key.SecretKey...)
	wrong[0] ^= 1
	cancel(key.ProcessID, wrong)
	cancel(key.ProcessID+1, key.SecretKey)
	select {
	case <-time.After(200 * time.Millisecond):
	case <-ts.h.running:
		t.Fatal("unexpected")
	}
	cancel(key.ProcessID, key.SecretKey)
	msgs := c.expect("EZ")
	if errCode(msgs[0]) != "57014" {
		t.Errorf("%+v", msgs[0])
	}
	if !strings.Contains(ts.logs.String(), "cancel request with an unknown key") {
		t.Errorf("wrong keys were not logged")
	}
	// A cancel when nothing runs does nothing.
	cancel(key.ProcessID, key.SecretKey)
	c.send(&pgproto3.Query{String: "SELECT 1"})
	c.expect("TDCZ")
}

func TestManyConnections(t *testing.T) {
	ts := startServer(t, Options{})
	errc := make(chan error, 20)
	for i := range 20 {
		go func() {
			errc <- func() error {
				conn, err := pgx.Connect(testCtx(t), connString(ts, "u", "pw", ""))
				if err != nil {
					return err
				}
				defer conn.Close(context.Background())
				for j := range 20 {
					rows, err := conn.Query(testCtx(t), fmt.Sprintf("SERIES %d", i+j))
					if err != nil {
						return err
					}
					n := 0
					for rows.Next() {
						n++
					}
					if rows.Err() != nil || n != i+j {
						return fmt.Errorf("SERIES %d gave %d rows: %v", i+j, n, rows.Err())
					}
				}
				return nil
			}()
		}()
	}
	for range 20 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
}

func TestCloseTellsIdleClients(t *testing.T) {
	ts := rawServer(t, Options{})
	c := rawConnect(t, ts)
	done := make(chan struct{})
	go func() { ts.Close(); close(done) }()
	e := c.expectFatal("57P01")
	if !strings.Contains(e.Message, "administrator command") {
		t.Errorf("%q", e.Message)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
}

func TestInvalidUTF8(t *testing.T) {
	ts := rawServer(t, Options{})
	c := rawConnect(t, ts)
	c.send(&pgproto3.Query{String: "SELECT \xff"})
	if msgs := c.expect("EZ"); errCode(msgs[0]) != "22021" {
		t.Errorf("%+v", msgs[0])
	}
	c.send(&pgproto3.Parse{Query: "SELECT \xff"}, &pgproto3.Sync{})
	if msgs := c.expect("EZ"); errCode(msgs[0]) != "22021" {
		t.Errorf("%+v", msgs[0])
	}
	c.send(&pgproto3.Parse{Query: "ECHO text"}, &pgproto3.Bind{Parameters: [][]byte{[]byte("a\x00b")}}, &pgproto3.Sync{})
	if msgs := c.expect("1EZ"); errCode(msgs[1]) != "22021" {
		t.Errorf("%+v", msgs[1])
	}
}

func TestAuthTimeout(t *testing.T) {
	ts := rawServer(t, Options{AuthTimeout: 200 * time.Millisecond})
	c := dial(t, ts) // and say nothing
	c.expectClosed()
	c = dial(t, ts) // or stop after the startup message
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u"}})
	c.expect("R")
	c.expectClosed()
	rawConnect(t, ts)
}
