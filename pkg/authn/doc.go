// Package authn lets a Go service sit behind Gatehouse. It reads a request's
// credential in StackStorm's order (header X-Auth-Token, header St2-Api-Key,
// query x-auth-token, query st2-api-key) and checks it with Gatehouse's
// introspection endpoint (POST /auth/v1/introspect, RFC 7662), caching
// active answers for a few seconds.
//
// Three lines protect a service:
//
//	mw, err := authn.New(authn.Config{URL: "http://127.0.0.1:9100", APIKey: key})
//	http.Handle("/", mw.Handler(app))
//	id, _ := authn.FromContext(r.Context()) // in app: id.Username, id.Groups
//
// The service's own account (whose Token, APIKey or password is in Config)
// must be one of Gatehouse's auth.service_users or auth.admin_users. The
// package's Example is a whole service, run against a stand-in Gatehouse.
//
// Failures are never a pass: a request without a credential, or with one
// Gatehouse does not call active, gets 401; when Gatehouse cannot be asked
// (down, slow, 5xx, or refusing the service's own credential) the request
// gets 503 and the wrapped handler is not called.
//
// Secrets: credentials are never logged nor put in errors. The cache is
// keyed by SHA-256 of the credential's kind and value, and the Identity in
// the context holds the credential's kind and location only. The request
// itself is passed on unchanged, credential included.
//
// Revocation: a revoked token or key is refused by Gatehouse at once, but a
// cached active answer is reused for up to Config.CacheTTL (5 s by default).
// Inactive answers are never cached.
//
// It imports only the standard library, so a service that imports it does
// not compile Gatehouse's database, LDAP or PAM code.
package authn
