package pgwire

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// encodeMsgs is the wire bytes of frontend messages.
func encodeMsgs(t testing.TB, msgs ...pgproto3.FrontendMessage) []byte {
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = m.Encode(b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// FuzzServerMessages feeds arbitrary bytes to a logged-in connection over an in-memory
// pipe. The server must not panic, must keep reading or close the connection (never
// hang), and must end the connection's goroutine when the client goes away.
func FuzzServerMessages(f *testing.F) {
	seeds := [][]pgproto3.FrontendMessage{
		{&pgproto3.Query{String: "SELECT 1"}},
		{&pgproto3.Query{String: "SELECT 1; ERROR; SERIES 3"}},
		{&pgproto3.Query{String: "SELECT * FROM types"}},
		{&pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}},
		{&pgproto3.Parse{Name: "s", Query: "ECHO int2,int4,int8,float4,float8,numeric,bool,text,date,timestamp,timestamptz,bytea,uuid"},
			&pgproto3.Describe{ObjectType: 'S', Name: "s"}, &pgproto3.Sync{},
			&pgproto3.Bind{PreparedStatement: "s", ParameterFormatCodes: []int16{1},
				Parameters: [][]byte{{0, 1}, {0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 1}, {0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
					{0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, {1}, []byte("t"), {0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 1}, {}, make([]byte, 16)},
				ResultFormatCodes: []int16{1}},
			&pgproto3.Execute{}, &pgproto3.Sync{}},
		{&pgproto3.Parse{Query: "SERIES 5"}, &pgproto3.Bind{DestinationPortal: "p"}, &pgproto3.Execute{Portal: "p", MaxRows: 2},
			&pgproto3.Flush{}, &pgproto3.Execute{Portal: "p", MaxRows: 2}, &pgproto3.Close{ObjectType: 'P', Name: "p"}, &pgproto3.Sync{}},
		{&pgproto3.Parse{Query: "BOGUS"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{}, &pgproto3.Query{String: "BEGIN"}},
		{&pgproto3.Parse{Name: "x", Query: "ECHO text", ParameterOIDs: []uint32{25}}, &pgproto3.Bind{PreparedStatement: "x", Parameters: [][]byte{nil}}, &pgproto3.Execute{}, &pgproto3.Sync{}},
		{&pgproto3.FunctionCall{Function: 1}, &pgproto3.CopyData{Data: []byte("x")}, &pgproto3.Terminate{}},
	}
	for _, s := range seeds {
		f.Add(encodeMsgs(f, s...))
	}
	f.Add([]byte{'z', 0, 0, 0, 4})
	f.Add([]byte{'Q', 0x7f, 0xff, 0xff, 0xff})
	f.Add([]byte{'B', 0, 0, 0, 10, 0, 0, 0xff, 0xff, 0, 0})
	f.Add([]byte{'Q', 0, 0, 0, 100, 'S'})

	login := encodeMsgs(f,
		&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "u", "database": "db"}},
		&pgproto3.PasswordMessage{Password: "pw"})

	f.Fuzz(func(t *testing.T, data []byte) {
		logs := &syncBuffer{}
		srv := NewServer(Options{
			Handler:          newFakeHandler(),
			Logger:           slog.New(slog.NewTextHandler(logs, nil)),
			AuthMethod:       AuthPassword,
			AllowCleartext:   true,
			StatementTimeout: 50 * time.Millisecond,
			IdleTimeout:      5 * time.Second,
			MaxMessageSize:   1 << 20,
		})
		client, server := net.Pipe()
		defer client.Close()
		if !srv.serveNetConn(server) {
			t.Fatal("server refused the connection")
		}
		_ = client.SetDeadline(time.Now().Add(10 * time.Second))

		// Log in: the server asks for the password after the startup message.
		fe := pgproto3.NewFrontend(client, client)
		if _, err := client.Write(login[:len(login)-len(encodeMsgs(t, &pgproto3.PasswordMessage{Password: "pw"}))]); err != nil {
			t.Fatal(err)
		}
		if _, err := fe.Receive(); err != nil {
			t.Fatal(err)
		}
		if _, err := client.Write(encodeMsgs(t, &pgproto3.PasswordMessage{Password: "pw"})); err != nil {
			t.Fatal(err)
		}
		for {
			m, err := fe.Receive()
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if _, ok := m.(*pgproto3.ReadyForQuery); ok {
				break
			}
		}

		// Whatever the server answers is read and dropped, so that its writes never block.
		drained := make(chan struct{})
		go func() {
			_, _ = io.Copy(io.Discard, client)
			close(drained)
		}()
		if _, err := client.Write(data); err != nil && !isClosedPipe(err) {
			t.Fatalf("the server stopped reading without closing: %v", err)
		}
		// Then a statement the server can always answer, unless it closed the connection or
		// is still waiting for the rest of a message.
		_, _ = client.Write(encodeMsgs(t, &pgproto3.Sync{}, &pgproto3.Query{String: "SELECT 1"}))
		client.Close()
		<-drained

		closed := make(chan struct{})
		go func() {
			srv.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatalf("the connection's goroutine did not end")
		}
		if l := logs.String(); strings.Contains(l, "panic serving a connection") && !strings.Contains(l, "fake handler panics") {
			t.Fatalf("panic:\n%s", l)
		}
	})
}

func isClosedPipe(err error) bool {
	return err == io.ErrClosedPipe || strings.Contains(err.Error(), "closed pipe")
}

// TestFuzzSeedsAnswer checks, outside the fuzzer, that each seed sequence leaves a
// connection that still answers.
func TestFuzzSeedsAnswer(t *testing.T) {
	ts := rawServer(t, Options{})
	for _, msgs := range [][]pgproto3.FrontendMessage{
		{&pgproto3.Query{String: "SELECT 1; ERROR; SERIES 3"}},
		{&pgproto3.Parse{Query: "BOGUS"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{}},
		{&pgproto3.Parse{Query: "SERIES 5"}, &pgproto3.Bind{DestinationPortal: "p"}, &pgproto3.Execute{Portal: "p", MaxRows: 2}, &pgproto3.Sync{}},
	} {
		c := rawConnect(t, ts)
		if _, err := c.nc.Write(encodeMsgs(t, msgs...)); err != nil {
			t.Fatal(err)
		}
		c.send(&pgproto3.Query{String: "SERIES 7"})
		for {
			m, _ := c.receive()
			if cc, ok := m.(*pgproto3.CommandComplete); ok && string(cc.CommandTag) == "SELECT 7" {
				break
			}
		}
		c.expect("Z")
	}
}
