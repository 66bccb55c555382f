//go:build pam

package pam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/msteinert/pam/v2"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
)

// refusals are the PAM codes that say "not this user with this password
// now": the caller gets backend.ErrInvalidCredentials. Every other code
// (PAM_SERVICE_ERR, PAM_SYSTEM_ERR, PAM_BUF_ERR, PAM_OPEN_ERR,
// PAM_SYMBOL_ERR, PAM_MODULE_UNKNOWN, PAM_AUTHINFO_UNAVAIL, PAM_CONV_ERR,
// PAM_ABORT, …) means the stack is broken or cannot reach its data, and
// becomes backend.ErrUnavailable.
var refusals = map[pam.Error]bool{
	pam.ErrAuth:             true, // wrong password; also pam_deny
	pam.ErrUserUnknown:      true,
	pam.ErrCredInsufficient: true,
	pam.ErrMaxtries:         true, // pam_faillock and friends
	pam.ErrPermDenied:       true, // pam_access, pam_nologin, pam_listfile
	pam.ErrAcctExpired:      true, // chage -E
	pam.ErrNewAuthtokReqd:   true, // chage -d 0, or password aged out
	pam.ErrAuthtokExpired:   true,
	pam.ErrCredExpired:      true,
}

// failure turns an error from a PAM call into what Authenticate returns,
// and logs it. stage names the call (pam_authenticate, …).
func (b *Backend) failure(stage, username string, err error) error {
	var code pam.Error
	if errors.As(err, &code) && refusals[code] {
		level := slog.LevelDebug
		if stage == "pam_acct_mgmt" { // the password was right
			level = slog.LevelInfo
		}
		b.log.Log(context.Background(), level, "pam refused the login",
			slog.String("stage", stage), slog.String("user", username), slog.String("reason", code.Error()))
		return backend.ErrInvalidCredentials
	}
	return fmt.Errorf("pam: %s on service %q: %w: %w", stage, b.service, backend.ErrUnavailable, err)
}
