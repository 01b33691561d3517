package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

// TestHandler checks what / serves with or without a built UI in this checkout.
func TestHandler(t *testing.T) {
	h := Handler()
	res := get(t, h, "GET", "/")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if res.Header.Get("Content-Security-Policy") == "" {
		t.Error("no Content-Security-Policy")
	}
	if !Built() {
		if !strings.Contains(string(body), "make web") {
			t.Fatalf("without a built UI, / should say how to build it: %s", body)
		}
		return
	}
	if !strings.Contains(string(body), "<div") && !strings.Contains(string(body), "<script") {
		t.Fatalf("GET / does not look like the built index.html: %s", body)
	}
	// A client-side route gets index.html too.
	deep := get(t, h, "GET", "/playground/anything")
	deepBody, _ := io.ReadAll(deep.Body)
	if deep.StatusCode != 200 || string(deepBody) != string(body) {
		t.Fatalf("GET /playground/anything: %d, not index.html", deep.StatusCode)
	}
	if res := get(t, h, "POST", "/"); res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /: %d", res.StatusCode)
	}
}
