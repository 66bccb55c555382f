package backend

import "context"

// Verdict is a Prober's answer about one user name and password.
type Verdict int

const (
	// Refused means the name is the backend's and the login is refused:
	// a wrong password, an inactive account, a user outside the required
	// groups, a name the backend lists but can never accept. It is also
	// the answer for input no backend accepts (an empty password). In a
	// chain it is final. It is the zero Verdict, so that a forgotten
	// assignment fails closed.
	Refused Verdict = iota
	// Unknown means the name is not the backend's: a chain asks the next
	// backend.
	Unknown
	// Accepted means the name is the backend's and the password is right.
	Accepted
)

// String returns "refused", "unknown" or "accepted", for logs.
func (v Verdict) String() string {
	switch v {
	case Refused:
		return "refused"
	case Unknown:
		return "unknown"
	case Accepted:
		return "accepted"
	}
	return "invalid verdict"
}

// Prober is implemented by backends that can tell whether a user name is
// theirs. Only Probers may stand before another backend in a chain
// (package chain): a backend that cannot tell (pam) must be last.
//
// Timing must not tell the verdicts apart: Probe does the same work for an
// unknown name as for a known one (a dummy hash, a decoy bind), and Spend
// does that work once more without looking at any user, so that a chain
// can make every login cost every link.
type Prober interface {
	Backend
	// Probe checks username and password like Authenticate, and says
	// whether the name is the backend's. The Identity is set only with
	// Accepted. The error, when not nil, wraps ErrUnavailable or ErrBusy:
	// the backend could not tell, and the Verdict means nothing.
	Probe(ctx context.Context, username, password string) (Identity, Verdict, error)
	// Spend does the work of refusing an unknown name and returns when it
	// is done or ctx is done. Failures are ignored. A backend whose source
	// is failing may return at once: a name that reaches it then gets an
	// error anyway, so its answers already differ from a refusal's.
	Spend(ctx context.Context)
}

// Decide turns a Probe's answer into Authenticate's: the identity when
// Accepted, ErrInvalidCredentials (unwrapped) when Refused or Unknown, and
// err unchanged when it is set.
func Decide(id Identity, v Verdict, err error) (Identity, error) {
	switch {
	case err != nil:
		return Identity{}, err
	case v != Accepted:
		return Identity{}, ErrInvalidCredentials
	}
	return id, nil
}
