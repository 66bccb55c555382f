package backend

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// Negotiator is implemented by backends that also accept a ticket instead
// of a password: kerberos, through HTTP Negotiate (SPNEGO, RFC 4559).
//
// Negotiate checks one SPNEGO token from an `Authorization: Negotiate`
// header, sent from client (the zero Addr when unknown). It returns the
// ticket's Identity and what the caller must keep to refuse a replay, or
// an error wrapping ErrInvalidCredentials (with a TicketError saying why
// in words a person understands) for a token that is not good. It never
// asks the KDC, so it works while the KDC is down.
//
// Negotiate does not detect replays across processes: the caller records
// Ticket.ReplayKey until Ticket.ReplayUntil in the shared store and
// refuses a key it has seen.
type Negotiator interface {
	Negotiate(ctx context.Context, token []byte, client netip.Addr) (Ticket, error)
}

// Ticket is a verified SPNEGO token.
type Ticket struct {
	Identity Identity
	// Principal is the client's full principal name (alice@EXAMPLE.ORG),
	// for the audit line.
	Principal string
	// Reply is the SPNEGO token for the mutual-authentication answer
	// (`WWW-Authenticate: Negotiate <base64 Reply>`).
	Reply []byte
	// ReplayKey identifies the authenticator (a hash: it holds nothing
	// secret); ReplayUntil is when no replica, even one whose clock is
	// behind the others' within the allowed skew, would still accept the
	// authenticator, so the key need not be kept past it.
	ReplayKey   string
	ReplayUntil time.Time
}

// TicketError says in words why a ticket was refused (clock skew, expired,
// for another service, a realm that is not allowed). Its Reason is safe
// to show the client: it holds no ticket content. It wraps
// ErrInvalidCredentials.
type TicketError struct {
	Reason string
	Err    error // the cause, for logs
}

func (e *TicketError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

// Unwrap returns ErrInvalidCredentials and the cause.
func (e *TicketError) Unwrap() []error { return []error{ErrInvalidCredentials, e.Err} }

// TicketReason returns the client-safe reason of a refused ticket, or "".
func TicketReason(err error) string {
	var te *TicketError
	if errors.As(err, &te) {
		return te.Reason
	}
	return ""
}
