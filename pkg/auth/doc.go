// Package auth is Gatehouse's domain core: the Service that logs users in
// and issues, checks, renews and revokes their credentials, whatever
// carried the request.
//
// Every way in (HTTP Basic on any route, POST /auth/v1/tokens, and in Part
// 2 a session form, an OpenID Connect callback or a Negotiate header) calls
// Service.Login or Service.LoginCaller, the one place a password is
// checked: the throttle is reserved before the check, the audit line and
// the metrics are written there, and a locked account or address gets the
// same answer everywhere. A rule added there holds on every route at once.
//
// The Service keeps the domain state: the validation cache (invalidated
// across replicas through the store's Notifier), the cache of recent Basic
// callers, the login guard and the scanning guard. Service.Run does the
// background work: it listens for revocations, cuts off users who left the
// backend and purges expired tokens and old throttle counts.
//
// The package knows nothing of HTTP. It answers with *Error values whose
// Code says what went wrong (EUNKNOWN, EEXPIRED, ETHROTTLED with a
// RetryAfter, EUNAVAILABLE...); ErrorCode also translates the sentinels of
// pkg/store and pkg/backend. pkg/httpapi maps codes to statuses in one
// table. What the Service needs to know of the request it serves (the
// client address, the request id, the route, the time left for the store)
// travels in the context: see Request and Service.WithRequest.
package auth
