// Package model is Cubit's semantic model: cubes, views and their members, loaded from
// Cube-compatible YAML with the file and line of every definition, and validated as a whole.
//
// It owns the types, the loader, SQL templates and the validation rules. It knows nothing
// of queries, SQL dialects or databases, and must not import any of them.
package model
