// Package api holds Gatehouse's HTTP contract as an OpenAPI 3.0 document,
// api/openapi.yaml, embedded in the binary.
//
// The document describes every route pkg/httpapi serves, each path
// separately, with st2's exact shapes: request bodies, status codes,
// headers, response bodies and the faultstrings of the errors. The tests of
// pkg/httpapi keep it honest: one compares the router's routes with the
// document's paths, and the handler tests validate every response they get
// against it.
package api

import _ "embed"

//go:embed openapi.yaml
var spec []byte

// Spec returns the OpenAPI document (YAML). Each call returns a fresh copy,
// so callers may keep or change it.
func Spec() []byte {
	return append([]byte(nil), spec...)
}
