package gitrepo

import (
	"io/fs"
	"strings"

	"github.com/cubit-dev/cubit/internal/errs"
)

// maxBranchName bounds a branch name; Git has no limit of its own, but a ref is also a file
// name and most file systems stop at 255 bytes.
const maxBranchName = 255

// checkBranchName applies the rules of git check-ref-format --branch, so that a branch
// created here is one that the git command line (and any other Git host) accepts as well.
func checkBranchName(name string) error {
	bad := func(why string) error { return errs.Invalid("invalid branch name %q: %s", name, why) }
	switch {
	case name == "":
		return errs.Invalid("invalid branch name: it is empty")
	case len(name) > maxBranchName:
		return bad("longer than 255 bytes")
	case name == "@" || name == "HEAD":
		return bad("reserved by Git")
	case strings.HasPrefix(name, "-"):
		return bad("it starts with '-'")
	case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/"):
		return bad("it starts or ends with '/'")
	case strings.HasSuffix(name, "."):
		return bad("it ends with '.'")
	case strings.Contains(name, ".."):
		return bad("it contains '..'")
	case strings.Contains(name, "//"):
		return bad("it contains '//'")
	case strings.Contains(name, "@{"):
		return bad("it contains '@{'")
	}
	for _, c := range name {
		switch {
		case c < 0x20 || c == 0x7f:
			return bad("it contains a control character")
		case c == ' ':
			return bad("it contains a space")
		case strings.ContainsRune(`~^:?*[\`, c):
			return bad("it contains '" + string(c) + "'")
		}
	}
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") {
			return bad("a component starts with '.'")
		}
		if strings.HasSuffix(part, ".lock") {
			return bad("a component ends with '.lock'")
		}
	}
	return nil
}

// checkFilePath accepts a slash-separated path relative to the repository root that names a
// file inside it: not absolute, no "." or ".." element, no backslash (a path separator on
// Windows clients), nothing inside a .git directory.
func checkFilePath(path string) error {
	if path == "" {
		return errs.Invalid("invalid file path: it is empty")
	}
	if err := checkDirPath(path); err != nil {
		return err
	}
	if path == "." {
		return errs.Invalid("invalid file path %q: it is the repository root", path)
	}
	return nil
}

// checkDirPath is checkFilePath for directories, where "" and "." mean the repository root.
func checkDirPath(path string) error {
	if path == "" || path == "." {
		return nil
	}
	bad := func(why string) error { return errs.Invalid("invalid file path %q: %s", path, why) }
	switch {
	case strings.HasPrefix(path, "/"):
		return bad("it is absolute; paths are relative to the repository root")
	case strings.ContainsRune(path, '\\'):
		return bad("it contains a backslash; use '/'")
	case strings.ContainsRune(path, 0):
		return bad("it contains a NUL byte")
	}
	for _, part := range strings.Split(path, "/") {
		switch part {
		case "..":
			return bad("it leaves the repository ('..')")
		case ".", "":
			return bad("it has an empty or '.' element")
		}
		if strings.EqualFold(part, ".git") {
			return bad("it is inside .git")
		}
	}
	if !fs.ValidPath(path) {
		return bad("it is not a valid path")
	}
	return nil
}

// checkAuthor refuses a signature that would corrupt the commit header it is written into:
// Git stores it as "Name <email> time", one line.
func checkAuthor(s Signature) error {
	if strings.TrimSpace(s.Name) == "" {
		return errs.Invalid("invalid commit author: the name is empty")
	}
	for _, v := range []string{s.Name, s.Email} {
		if strings.ContainsAny(v, "<>\n\r\x00") {
			return errs.Invalid("invalid commit author %q <%s>: it contains '<', '>', a newline or NUL", s.Name, s.Email)
		}
	}
	return nil
}
