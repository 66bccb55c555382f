package httpapi_test

// The HTTP contract lives in api/openapi.yaml. This file keeps the router
// and the document in step (TestRoutesMatchSpec), checks the document
// (TestSpecIsValid), and provides validateAgainstSpec, which every handler
// test calls on every response it gets.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/gatehouse-auth/gatehouse/api"
	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/httpapi"
	"github.com/gatehouse-auth/gatehouse/pkg/store/sqlite"
)

// openAPISpec is api/openapi.yaml loaded, validated and routed once per
// test binary.
var openAPISpec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	// unrouted answers requests that match no operation: chi answers an
	// unknown path or an unserved method with 404 (and the middleware in
	// front of the router can still answer 413 or 500).
	unrouted *openapi3.Operation
	err      error
}

func loadOpenAPISpec() (*openapi3.T, routers.Router, *openapi3.Operation, error) {
	s := &openAPISpec
	s.once.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(api.Spec())
		if err != nil {
			s.err = fmt.Errorf("load api/openapi.yaml: %w", err)
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			s.err = fmt.Errorf("api/openapi.yaml is not a valid OpenAPI 3 document: %w", err)
			return
		}
		// Match any scheme, host and port: test servers listen anywhere,
		// and the document's server is only the default listen address.
		doc.Servers = nil
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			s.err = fmt.Errorf("route api/openapi.yaml: %w", err)
			return
		}
		resp := doc.Components.Responses
		for _, name := range []string{"NotFound", "PayloadTooLarge", "InternalError"} {
			if resp[name] == nil || resp[name].Value == nil {
				s.err = fmt.Errorf("api/openapi.yaml: components.responses.%s is missing", name)
				return
			}
		}
		s.unrouted = &openapi3.Operation{
			OperationID: "(no route)",
			Responses: openapi3.NewResponses(
				openapi3.WithStatus(http.StatusNotFound, resp["NotFound"]),
				openapi3.WithStatus(http.StatusRequestEntityTooLarge, resp["PayloadTooLarge"]),
				openapi3.WithStatus(http.StatusInternalServerError, resp["InternalError"]),
			),
		}
		s.doc, s.router = doc, router
	})
	return s.doc, s.router, s.unrouted, s.err
}

// validateAgainstSpec fails t (with t.Errorf, so it may be called from any
// goroutine) when resp, the answer to req, does not match api/openapi.yaml:
// a status the operation does not list, a missing or malformed documented
// header (X-Request-ID on every response, X-API-URL, X-Total-Count,
// X-Limit), a Content-Type the response does not declare, or a body that
// does not match the schema (response objects have additionalProperties:
// false, so an extra member fails too). body is the response body the
// caller has already read; resp.Body is not touched.
//
// req is the request as sent; its body may have been consumed, since only
// the response is validated (no request body, parameters or security).
// When req is nil, resp.Request is used. The operation is found from the
// method and the URL path with one trailing slash stripped, as the server
// does; the query string is ignored. A request that matches no operation
// (unknown path, or a method the path does not serve) must have been
// answered 404 "The resource could not be found." (or 413 or 500).
//
// Usage, after reading the body:
//
//	resp, err := http.DefaultClient.Do(req)
//	...
//	body, _ := io.ReadAll(resp.Body)
//	validateAgainstSpec(t, req, resp, body)
//
// or with a recorder: resp := rec.Result(); validateAgainstSpec(t, req, resp, rec.Body.Bytes()).
func validateAgainstSpec(t testing.TB, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	if err := checkAgainstSpec(req, resp, body); err != nil {
		method, target := "?", "?"
		if req == nil && resp != nil {
			req = resp.Request
		}
		if req != nil && req.URL != nil {
			method, target = req.Method, req.URL.RequestURI()
		}
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Errorf("response does not match api/openapi.yaml\n"+
			"  request:  %s %s\n"+
			"  status:   %d\n"+
			"  headers:  %s\n"+
			"  body:     %s\n"+
			"  problem:  %s",
			method, target, status, specHeaderSummary(resp), specBodySummary(body),
			strings.ReplaceAll(err.Error(), "\n", "\n            "))
	}
}

// checkAgainstSpec is validateAgainstSpec's work, as an error.
func checkAgainstSpec(req *http.Request, resp *http.Response, body []byte) error {
	doc, router, unrouted, err := loadOpenAPISpec()
	if err != nil {
		return err
	}
	if resp == nil {
		return errors.New("no response (resp is nil)")
	}
	if req == nil {
		req = resp.Request
	}
	if req == nil || req.URL == nil {
		return errors.New("no request: pass the request, or a response whose Request is set")
	}
	lookup := specRoutingRequest(req)

	route, params, err := router.FindRoute(lookup)
	switch {
	case err == nil:
	case errors.Is(err, routers.ErrPathNotFound), errors.Is(err, routers.ErrMethodNotAllowed):
		route = &routers.Route{Spec: doc, Path: lookup.URL.Path, Method: lookup.Method, Operation: unrouted}
		params = nil
	default:
		return fmt.Errorf("find the operation for %s %s: %w", lookup.Method, lookup.URL.Path, err)
	}
	where := fmt.Sprintf("operation %s (%s %s)", route.Operation.OperationID, route.Method, route.Path)

	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		ExcludeRequestBody:    true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		// The body is printed once, in full; no schema dumps.
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}
	header := resp.Header
	if header == nil {
		header = http.Header{}
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: lookup, PathParams: params, Route: route, Options: opts,
		},
		Status:  resp.StatusCode,
		Header:  header,
		Options: opts,
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}

	// kin-openapi does not look at the body of a response the document
	// declares without content (204): it must be empty.
	if ref := route.Operation.Responses.Status(resp.StatusCode); ref != nil && ref.Value != nil &&
		len(ref.Value.Content) == 0 && len(body) > 0 && lookup.Method != http.MethodHead {
		return fmt.Errorf("%s: status %d has no body in the document, got %d bytes", where, resp.StatusCode, len(body))
	}
	return nil
}

// specRoutingRequest is a body-less copy of req for finding the operation: the
// method (GET when empty, as net/http reads it) and the URL path with one
// trailing slash stripped, as the server's stripOneSlash middleware does.
func specRoutingRequest(req *http.Request) *http.Request {
	u := *req.URL
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	if len(u.Path) > 1 && strings.HasSuffix(u.Path, "/") {
		u.Path = u.Path[:len(u.Path)-1]
		if len(u.RawPath) > 1 && strings.HasSuffix(u.RawPath, "/") {
			u.RawPath = u.RawPath[:len(u.RawPath)-1]
		} else {
			u.RawPath = ""
		}
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	return &http.Request{
		Method: method, URL: &u, Host: req.Host, Header: req.Header.Clone(),
		Body: http.NoBody, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}
}

func specHeaderSummary(resp *http.Response) string {
	if resp == nil {
		return "(none)"
	}
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %q", k, strings.Join(resp.Header[k], ", ")))
	}
	return strings.Join(parts, "; ")
}

func specBodySummary(body []byte) string {
	const max = 2048
	if len(body) == 0 {
		return "(empty)"
	}
	if len(body) > max {
		return fmt.Sprintf("%s… (%d bytes)", body[:max], len(body))
	}
	return string(body)
}

// TestSpecIsValid loads api/openapi.yaml and validates it as an OpenAPI 3
// document, then checks the habits the handler tests rely on.
func TestSpecIsValid(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.Spec())
	if err != nil {
		t.Fatalf("load api/openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("api/openapi.yaml is not a valid OpenAPI 3 document: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi: %q, want 3.0.3", doc.OpenAPI)
	}
	ids := map[string]string{}
	for _, path := range doc.Paths.InMatchingOrder() {
		for method, op := range doc.Paths.Value(path).Operations() {
			where := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s: no operationId", where)
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("%s: operationId %q is also used by %s", where, op.OperationID, other)
			}
			ids[op.OperationID] = where
			if op.Responses.Len() == 0 {
				t.Errorf("%s: no responses", where)
			}
			for code, ref := range op.Responses.Map() {
				if ref.Value == nil || ref.Value.Headers["X-Request-ID"] == nil ||
					!ref.Value.Headers["X-Request-ID"].Value.Required {
					t.Errorf("%s: response %s does not require the X-Request-ID header", where, code)
				}
			}
		}
	}
}

// TestRoutesMatchSpec checks that the router serves exactly the (method,
// path) pairs api/openapi.yaml describes.
func TestRoutesMatchSpec(t *testing.T) {
	// Store and Backend are not needed to build the router or walk it.
	srv := httpapi.NewServer(httpapi.Config{Logger: slog.New(slog.DiscardHandler)})
	router := map[string]bool{}
	err := srv.Walk(func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if webPage(route) {
			return nil // HTML for people, not the API: tested in pkg/ui
		}
		router[method+" "+normaliseChiPattern(route)] = true
		return nil
	})
	if err != nil {
		t.Fatalf("walk the router: %v", err)
	}
	if len(router) == 0 {
		t.Fatal("the router has no routes")
	}

	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.Spec())
	if err != nil {
		t.Fatalf("load api/openapi.yaml: %v", err)
	}
	spec := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			spec[strings.ToUpper(method)+" "+path] = true
		}
	}

	onlyRouter, onlySpec := specSetMinus(router, spec), specSetMinus(spec, router)
	if len(onlyRouter) > 0 || len(onlySpec) > 0 {
		t.Errorf("the router and api/openapi.yaml disagree\n"+
			"served but not in api/openapi.yaml (%d):\n\t%s\n"+
			"in api/openapi.yaml but not served (%d):\n\t%s",
			len(onlyRouter), strings.Join(specOrNone(onlyRouter), "\n\t"),
			len(onlySpec), strings.Join(specOrNone(onlySpec), "\n\t"))
	}
}

// webPage reports the web page's routes (/ui/, and / sending there).
func webPage(route string) bool {
	return route == "/" || route == "/ui" || strings.HasPrefix(route, "/ui/")
}

var specChiParam = regexp.MustCompile(`\{([^{}:]+):[^{}]*\}`)

// normaliseChiPattern turns a chi route pattern into an OpenAPI path:
// {name:regexp} becomes {name} ({name} stays), a trailing slash goes.
func normaliseChiPattern(p string) string {
	p = specChiParam.ReplaceAllString(p, "{$1}")
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	return p
}

func specSetMinus(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func specOrNone(s []string) []string {
	if len(s) == 0 {
		return []string{"(none)"}
	}
	return s
}

// specRecordingTB records what validateAgainstSpec reports, so that the
// helper itself can be tested.
type specRecordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *specRecordingTB) Helper() {}

func (r *specRecordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// specTestBackend accepts one user and password.
type specTestBackend struct{ user, password string }

func (b specTestBackend) Authenticate(_ context.Context, user, password string) (backend.Identity, error) {
	if user == b.user && password == b.password {
		return backend.Identity{Username: user}, nil
	}
	return backend.Identity{}, backend.ErrInvalidCredentials
}

// TestValidateAgainstSpecOnRealResponses drives a real server (in-memory
// SQLite) through every route and checks validateAgainstSpec accepts what
// it answers, and that it refuses doctored answers.
func TestValidateAgainstSpecOnRealResponses(t *testing.T) {
	st, err := sqlite.Open(context.Background(), sqlite.Memory)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httpapi.NewServer(httpapi.Config{
		Store: st, Backend: specTestBackend{"joe", "s3cret:x"},
		Logger: slog.New(slog.DiscardHandler), APIURL: "http://127.0.0.1:9101",
	})

	// do serves one request and validates the answer; it returns the
	// status and the body.
	do := func(t *testing.T, method, target, body string, header http.Header) (int, []byte) {
		t.Helper()
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		for k, v := range header {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		resp := rec.Result()
		got, _ := io.ReadAll(resp.Body)
		validateAgainstSpec(t, req, resp, got)
		return resp.StatusCode, got
	}
	basicHdr := http.Header{"Authorization": {"Basic am9lOnMzY3JldDp4"}} // joe:s3cret:x
	jsonCT := http.Header{"Content-Type": {"application/json"}}

	status, body := do(t, "POST", "/auth/v1/tokens", "", basicHdr)
	if status != http.StatusCreated {
		t.Fatalf("issue token: %d %s", status, body)
	}
	tok := regexp.MustCompile(`"token":"([0-9a-f]{32})"`).FindSubmatch(body)
	if tok == nil {
		t.Fatalf("no token in %s", body)
	}
	auth := http.Header{"X-Auth-Token": {string(tok[1])}, "Content-Type": {"application/json"}}

	status, body = do(t, "POST", "/auth/v1/apikeys", `{"metadata":{"purpose":"test"}}`, auth)
	if status != http.StatusCreated {
		t.Fatalf("create key: %d %s", status, body)
	}
	key := regexp.MustCompile(`"key":"([0-9A-Za-z]{86})"`).FindSubmatch(body)
	id := regexp.MustCompile(`"id":"([0-9a-f]{24})"`).FindSubmatch(body)
	if key == nil || id == nil {
		t.Fatalf("no key or id in %s", body)
	}

	steps := []struct {
		method, target, body string
		header               http.Header
		want                 int
	}{
		{"POST", "/tokens/", `{"ttl": 60}`, specMergeHeaders(basicHdr, jsonCT), 201},
		{"POST", "/auth/tokens", "", specMergeHeaders(basicHdr, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}), 201},
		{"POST", "/v1/tokens", `{"ttl": 0}`, specMergeHeaders(basicHdr, jsonCT), 400},
		{"POST", "/v1/tokens", `{"ttl": 99999999}`, specMergeHeaders(basicHdr, jsonCT), 400},
		{"POST", "/tokens", "", http.Header{"Authorization": {"Basic am9lOm5vcGU="}}, 401},
		{"POST", "/auth/v1/tokens/validate", `{"token":"` + string(tok[1]) + `"}`, auth, 200},
		{"POST", "/tokens/validate/", `{"token":"00000000000000000000000000000000"}`, auth, 200},
		{"POST", "/v1/tokens/validate", `{}`, auth, 400},
		{"POST", "/auth/tokens/validate", `{"token":"x"}`, jsonCT, 401},
		{"GET", "/api/v1/apikeys?limit=1&offset=0", "", auth, 200},
		{"GET", "/v1/apikeys/?st2-api-key=" + string(key[1]), "", nil, 200},
		{"GET", "/v1/apikeys?limit=-5", "", auth, 400},
		{"GET", "/v1/apikeys?limit=-1", "", auth, 403},
		{"GET", "/api/v1/apikeys/" + string(key[1]), "", auth, 200},
		{"GET", "/auth/v1/apikeys/" + string(id[1]) + "/", "", auth, 200},
		{"GET", "/auth/v1/apikeys/nope", "", auth, 404},
		{"PUT", "/v1/apikeys/" + string(id[1]), `{"enabled": false, "key_hash": "********"}`, auth, 200},
		{"PUT", "/v1/apikeys/" + string(id[1]), `{"bogus": 1}`, auth, 400},
		{"PUT", "/v1/apikeys/nope", `{}`, auth, 404},
		{"GET", "/api/v1/apikeys", "", http.Header{"St2-Api-Key": {string(key[1])}}, 401},
		{"POST", "/api/v1/apikeys", `{"key_hash":"` + strings.Repeat("ab", 64) + `"}`, auth, 403}, // admins only
		{"POST", "/api/v1/apikeys", `{"id":"` + string(id[1]) + `"}`, auth, 409},
		{"POST", "/api/v1/apikeys", `{"user":"ann"}`, auth, 403},
		{"DELETE", "/api/v1/apikeys/" + string(id[1]), "", auth, 204},
		{"DELETE", "/api/v1/apikeys/" + string(id[1]), "", auth, 404},
		{"GET", "/healthz", "", nil, 200},
		{"GET", "/readyz/", "", nil, 200},
		{"GET", "/nowhere", "", nil, 404},
		{"DELETE", "/tokens", "", nil, 404},
		{"POST", "/tokens", strings.Repeat("x", 70<<10), jsonCT, 413},
	}
	for _, s := range steps {
		name := strings.NewReplacer(string(key[1]), "KEY", string(id[1]), "ID").Replace(s.method + " " + s.target)
		t.Run(name, func(t *testing.T) {
			if status, body := do(t, s.method, s.target, s.body, s.header); status != s.want {
				t.Errorf("status %d, want %d; body %s", status, s.want, body)
			}
		})
	}

	srv.StartDraining()
	if status, body := do(t, "GET", "/readyz", "", nil); status != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining: %d %s", status, body)
	}

	// Doctored answers must be refused.
	t.Run("refuses", func(t *testing.T) {
		good := `{"id":"574840001878c10d0b6e8fbf","user":"joe","token":"5e86421776f946e98faea36c29e5a7c7",` +
			`"expiry":"2016-05-28T12:39:28.650231Z","metadata":{},"service":false}`
		hdr := func(kv ...string) http.Header {
			h := http.Header{}
			for i := 0; i < len(kv); i += 2 {
				h.Set(kv[i], kv[i+1])
			}
			return h
		}
		std := []string{"Content-Type", "application/json", "X-API-URL", "http://x", "X-Request-ID", "abc"}
		cases := []struct {
			name, method, target string
			status               int
			header               http.Header
			body                 string
			want                 string // in the report
		}{
			{"extra member", "POST", "/tokens", 201, hdr(std...),
				strings.Replace(good, `"service":false`, `"service":false,"extra":1`, 1), `property "extra" is unsupported`},
			{"missing member", "POST", "/tokens", 201, hdr(std...),
				strings.Replace(good, `,"service":false`, ``, 1), `property "service" is missing`},
			{"expiry without micros", "POST", "/tokens", 201, hdr(std...),
				strings.Replace(good, `.650231Z`, `Z`, 1), `Error at "/expiry"`},
			{"no X-Request-ID", "POST", "/tokens", 201, hdr(std[:4]...), good, `header "X-Request-ID" missing`},
			{"no X-API-URL", "POST", "/tokens/", 201, hdr("Content-Type", "application/json", "X-Request-ID", "a"), good,
				`header "X-API-URL" missing`},
			{"undocumented status", "POST", "/tokens", 418, hdr(std...), `{"faultstring":"teapot"}`, "status is not supported"},
			{"wrong 401 text", "POST", "/auth/v1/tokens", 401, hdr(std...), `{"faultstring":"Unauthorized"}`,
				"InvalidCredentialsError"},
			{"wrong content type", "POST", "/tokens", 201, hdr("Content-Type", "text/plain", "X-Request-ID", "a", "X-API-URL", "u"), good,
				`Content-Type has unexpected value: "text/plain"`},
			{"body on 204", "DELETE", "/v1/apikeys/x", 204, hdr("X-Request-ID", "a"), `{}`, "status 204 has no body"},
			{"unrouted not 404", "GET", "/nowhere", 200, hdr(std...), `{}`, "(no route)"},
			{"wrong 404 text", "PUT", "/tokens", 404, hdr(std...), `{"faultstring":"Not here"}`, "NotFoundError"},
			{"list without X-Limit", "GET", "/v1/apikeys?limit=5", 200,
				hdr("Content-Type", "application/json", "X-Request-ID", "a", "X-Total-Count", "0"), `[]`, `header "X-Limit" missing`},
			{"unmasked key_hash", "GET", "/api/v1/apikeys/x", 200, hdr(std...),
				`{"id":"574840001878c10d0b6e8fbf","uid":"********","user":"joe","key_hash":"abc","metadata":{},` +
					`"created_at":"2016-05-28T12:39:28.650231Z","enabled":true}`, `Error at "/key_hash"`},
		}
		for _, c := range cases {
			rec := &specRecordingTB{TB: t}
			req := httptest.NewRequest(c.method, c.target, nil)
			resp := &http.Response{StatusCode: c.status, Header: c.header, Request: req,
				Body: io.NopCloser(bytes.NewReader(nil))}
			validateAgainstSpec(rec, nil, resp, []byte(c.body))
			switch {
			case len(rec.errors) == 0:
				t.Errorf("%s: accepted", c.name)
			case !strings.Contains(rec.errors[0], c.want):
				t.Errorf("%s: the report does not mention %q:\n%s", c.name, c.want, rec.errors[0])
			}
		}
	})
}

func specMergeHeaders(hs ...http.Header) http.Header {
	out := http.Header{}
	for _, h := range hs {
		for k, v := range h {
			out[k] = append(out[k], v...)
		}
	}
	return out
}
