package model

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cubit-dev/cubit/internal/errs"
)

// Load reads every YAML file below dir (usually a folder holding cubes/ and views/), builds
// the model and validates it. When the model has problems the error is a Problems listing
// all of them.
func Load(dir string) (*Model, error) {
	info, err := os.Stat(dir)
	switch {
	case err != nil:
		return nil, errs.Wrap(errs.KindModel, err, "model folder %s", dir)
	case !info.IsDir():
		return nil, &errs.Error{Kind: errs.KindModel, Message: fmt.Sprintf("model folder %s is a file, not a folder", dir)}
	}
	return LoadFS(os.DirFS(dir))
}

// LoadFS is Load over any file system, so that models embedded with go:embed or built in
// tests with fstest.MapFS load the same way. File positions are paths relative to the root
// of fsys.
func LoadFS(fsys fs.FS) (*Model, error) {
	files, err := modelFiles(fsys)
	if err != nil {
		return nil, err
	}
	l := &loader{}
	for _, name := range files {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, errs.Wrap(errs.KindModel, err, "reading model file %s", name)
		}
		l.file(name, data)
	}
	l.resolveExtends()
	l.setDefaults()
	cubes := make([]*Cube, len(l.defs))
	for i, d := range l.defs {
		cubes[i] = d.cube
	}
	m := New(cubes)
	l.resolveViews(m)
	l.probs = append(l.probs, validate(m)...)
	if len(l.probs) > 0 {
		l.probs.sort()
		return nil, l.probs
	}
	return m, nil
}

// modelFiles lists the YAML files of fsys sorted by path. Hidden directories (.git, .github)
// are skipped: they hold CI workflows and other YAML that is not part of a model. JavaScript
// model files are not supported and are skipped like any other non-YAML file.
func modelFiles(fsys fs.FS) ([]string, error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != "." && strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		ext := strings.ToLower(path.Ext(p))
		if !d.IsDir() && (ext == ".yml" || ext == ".yaml") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(errs.KindModel, err, "reading model directory")
	}
	slices.Sort(files)
	return files, nil
}

// loader holds the state of one load: the definitions read so far and the problems found.
type loader struct {
	defs  []*decoded
	probs Problems
}

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// file reads the cubes and views of one file.
func (l *loader) file(name string, data []byte) {
	if line := jinjaLine(data); line > 0 {
		l.probs.add(Pos{File: name, Line: line},
			"Jinja templates are not supported; render this file to plain YAML first")
		return
	}
	r := &reader{file: name, lines: strings.Split(string(data), "\n"), probs: &l.probs}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := decodeNode(dec, &doc)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			l.probs = append(l.probs, syntaxError(name, err))
			return
		}
		l.document(r, &doc)
	}
}

// decodeNode guards against a panic inside the YAML library: a model file, however broken,
// must produce a problem and not take the server down.
func decodeNode(dec *yaml.Decoder, doc *yaml.Node) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("yaml: %v", v)
		}
	}()
	return dec.Decode(doc)
}

// syntaxError turns the YAML library's "yaml: line N: msg" into a problem at that line.
func syntaxError(file string, err error) Problem {
	pos := Pos{File: file, Line: 1}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	return Problem{Pos: pos, Message: "YAML syntax error: " + msg}
}

// jinjaLine returns the first line holding a Jinja tag, or 0.
func jinjaLine(data []byte) int {
	i := bytes.Index(data, []byte("{{"))
	if j := bytes.Index(data, []byte("{%")); j >= 0 && (i < 0 || j < i) {
		i = j
	}
	if i < 0 {
		return 0
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}

// document reads the top level of a file: only `cubes` and `views`.
func (l *loader) document(r *reader, doc *yaml.Node) {
	if len(doc.Content) == 0 {
		return
	}
	root := r.deref(doc.Content[0])
	if isNull(root) {
		return
	}
	if root.Kind != yaml.MappingNode {
		l.probs.add(r.pos(root), "a model file must be a mapping with 'cubes' and/or 'views'")
		return
	}
	f := fields{r: r, what: "the file", pos: r.pos(root), vals: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := r.deref(root.Content[i])
		if k == nil {
			continue
		}
		if k.Value != "cubes" && k.Value != "views" {
			l.probs.add(r.pos(k),
				"Unexpected YAML key: %s. Only 'cubes' and 'views' are allowed here.", k.Value)
			continue
		}
		if f.vals[k.Value] != nil {
			l.probs.add(r.pos(k), "duplicate key %s in the file", k.Value)
			continue
		}
		if v := r.deref(root.Content[i+1]); !isNull(v) {
			f.vals[k.Value] = v
		}
	}
	for _, n := range f.list("cubes") {
		if d := r.cube(n); d != nil {
			l.defs = append(l.defs, d)
		}
	}
	for _, n := range f.list("views") {
		if d := r.view(n); d != nil {
			l.defs = append(l.defs, d)
		}
	}
}

// setDefaults fills what Cube defaults after inheritance has had its say.
func (l *loader) setDefaults() {
	for _, d := range l.defs {
		if d.cube.Kind == KindCube && d.cube.DataSource == "" {
			d.cube.DataSource = "default"
		}
	}
}
