package pgwire

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
)

// BenchmarkRows measures a result of 10 000 int8 rows through pgx, in the binary
// extended protocol and in the simple protocol's text.
func BenchmarkRows(b *testing.B) {
	ts := startServer(b, Options{})
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		b.Run(mode.String(), func(b *testing.B) {
			conn, err := pgx.Connect(context.Background(), fmt.Sprintf("postgres://u:pw@%s/db?sslmode=disable&%s", ts.addr, modeParam(mode)))
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close(context.Background())
			b.ReportAllocs()
			for b.Loop() {
				rows, err := conn.Query(context.Background(), "SERIES 10000")
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for rows.Next() {
					n++
				}
				if rows.Err() != nil || n != 10000 {
					b.Fatal(n, rows.Err())
				}
			}
		})
	}
}

// BenchmarkSelectOne measures the round trip of a one-row statement.
func BenchmarkSelectOne(b *testing.B) {
	ts := startServer(b, Options{})
	conn, err := pgx.Connect(context.Background(), fmt.Sprintf("postgres://u:pw@%s/db?sslmode=disable", ts.addr))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	for b.Loop() {
		var n int32
		if err := conn.QueryRow(context.Background(), "SELECT 1").Scan(&n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConnect measures a connection with SCRAM-SHA-256, whose 4096 PBKDF2 rounds
// dominate.
func BenchmarkConnect(b *testing.B) {
	ts := startServer(b, Options{})
	for b.Loop() {
		conn, err := pgx.Connect(context.Background(), fmt.Sprintf("postgres://u:pw@%s/db?sslmode=disable", ts.addr))
		if err != nil {
			b.Fatal(err)
		}
		conn.Close(context.Background())
	}
}
