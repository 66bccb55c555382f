// Package authn lets a Go service sit behind Gatehouse. It reads a request's
// credential in StackStorm's order (header X-Auth-Token, header St2-Api-Key,
// query x-auth-token, query st2-api-key) and checks it with Gatehouse.
//
// It imports only the standard library, so a service that imports it does
// not compile Gatehouse's database, LDAP or PAM code.
package authn
