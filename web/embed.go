// Package web is Cubit's web UI: a TypeScript (React, Chart.js) application in web/src,
// built with Vite into web/dist, which this package embeds so that `cubit serve` serves it
// at / from the binary. `make web` builds it; a binary built before that serves a page
// saying how to build it instead of failing.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// notBuilt is the page served when the binary carries no built UI.
const notBuilt = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cubit</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>Cubit</h1>
<p>This binary was built without the web UI. Build it with <code>make web</code> (Node.js and
npm), then rebuild the binary (<code>make build</code>); <code>make run</code> does both.</p>
<p>The APIs work without it: the admin API at <code>/api/v1</code>, each deployment's REST API
at its base URL, the SQL API on the SQL port.</p>
</body></html>
`

// Built reports whether the binary carries the built UI.
func Built() bool {
	_, err := fs.Stat(dist, "dist/index.html")
	return err == nil
}

// Handler serves the UI: the built files, with index.html for any other path (client-side
// routes), or the not-built page. Hashed assets are cached for a year; index.html is not
// cached, so a new binary's UI is picked up at once.
func Handler() http.Handler {
	sub, _ := fs.Sub(dist, "dist") // "dist" is a valid path: Sub cannot fail
	files := http.FileServerFS(sub)
	built := Built()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// Everything the UI loads comes from this server.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		if !built {
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Cache-Control", "no-store")
			_, _ = w.Write([]byte(notBuilt))
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if name != "" && name != "index.html" {
			if _, err := fs.Stat(sub, name); err == nil {
				if strings.HasPrefix(name, "assets/") {
					h.Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				files.ServeHTTP(w, r)
				return
			}
		}
		h.Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, sub, "index.html")
	})
}
