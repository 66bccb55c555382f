//go:build pam

package pam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/msteinert/pam/v2"

	"github.com/gatehouse-auth/gatehouse/pkg/backend"
	"github.com/gatehouse-auth/gatehouse/pkg/backend/internal/slots"
)

// maxPasswordBytes is PAM_MAX_RESP_SIZE: pam_unix refuses longer passwords
// with PAM_AUTHTOK_ERR, which would otherwise look like a broken stack.
const maxPasswordBytes = 512

// maxUsernameBytes bounds the user name handed to C; no system has longer
// names (LOGIN_NAME_MAX is 256 on Linux).
const maxUsernameBytes = 256

// geteuid is os.Geteuid, replaced by tests of check_for_root.
var geteuid = os.Geteuid

// Backend checks passwords through libpam. It is safe for concurrent use.
// See the package documentation for the flow, errors and concurrency.
type Backend struct {
	service string
	confDir string
	log     *slog.Logger
	slots   *slots.Slots
}

var _ backend.Backend = (*Backend)(nil)

// Factory builds the backend from st2-style backend_kwargs: service,
// confdir, max_concurrent, queue_timeout and check_for_root (see Config).
// Any other key is an error naming it.
func Factory(kwargs map[string]any, log *slog.Logger) (backend.Backend, error) {
	cfg, err := decodeKwargs(kwargs)
	if err != nil {
		return nil, err
	}
	return New(cfg, log)
}

// New checks cfg and returns a backend. It fails if an option is out of
// range, if check_for_root is set and the process is not root, or if
// confdir is not a directory or libpam lacks pam_start_confdir. A missing
// service file is only logged: libpam then uses the "other" service. A nil
// log discards log records.
func New(cfg Config, log *slog.Logger) (*Backend, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if euid := geteuid(); cfg.CheckForRoot && euid != 0 {
		return nil, fmt.Errorf("pam: check_for_root: gatehouse runs as uid %d, not root, and pam_unix can only "+
			"check other users' passwords as root (it reads /etc/shadow); run gatehouse as root, or set "+
			"check_for_root: false if the PAM stack needs no root (shadow group, pam_pwdfile, sssd): see docs/PAM.md",
			euid)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Backend{
		service: cfg.Service,
		confDir: cfg.ConfDir,
		log:     log.With("backend", Name, "service", cfg.Service),
		slots:   slots.New(cfg.MaxConcurrent, cfg.QueueTimeout, "pam"),
	}
	if err := b.checkServiceFile(); err != nil {
		return nil, err
	}
	return b, nil
}

// checkServiceFile fails on an unusable confdir and warns when no file
// defines the service.
func (b *Backend) checkServiceFile() error {
	dirs := []string{"/etc/pam.d", "/usr/lib/pam.d"}
	if b.confDir != "" {
		if fi, err := os.Stat(b.confDir); err != nil || !fi.IsDir() {
			return fmt.Errorf("pam: confdir %q is not a directory", b.confDir)
		}
		if !pam.CheckPamHasStartConfdir() {
			return errors.New("pam: confdir needs pam_start_confdir (Linux-PAM 1.4 or later)")
		}
		dirs = []string{b.confDir}
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, b.service)); err == nil {
			return nil
		}
	}
	b.log.Warn(`pam: no file defines the service; libpam will use the "other" service`,
		slog.Any("searched", dirs))
	return nil
}

// Authenticate checks username and password through the PAM service
// (pam_authenticate, then pam_acct_mgmt).
//
// It returns backend.ErrInvalidCredentials, unwrapped, for a refused login
// (wrong password, unknown user, expired, locked or must-change-password
// account) and for an empty password, an empty or over-long user name, an
// over-long password or a NUL byte, which never reach libpam. It returns an
// error wrapping backend.ErrBusy when no slot frees up within queue_timeout,
// one wrapping backend.ErrUnavailable and the pam.Error when the PAM stack
// fails, and one wrapping both backend.ErrUnavailable and ctx.Err() when
// ctx is done first. Identity.Username
// is PAM_USER after the transaction; Groups is nil.
func (b *Backend) Authenticate(ctx context.Context, username, password string) (backend.Identity, error) {
	if !acceptable(username, password) {
		return backend.Identity{}, backend.ErrInvalidCredentials
	}
	if err := ctx.Err(); err != nil {
		return backend.Identity{}, fmt.Errorf("pam: %w: %w", backend.ErrUnavailable, err)
	}
	if err := b.slots.Acquire(ctx); err != nil {
		return backend.Identity{}, err
	}
	done := make(chan result, 1)
	go func() {
		defer b.slots.Release()
		done <- b.transact(username, password)
	}()
	select {
	case r := <-done:
		return r.id, r.err
	case <-ctx.Done():
		// The C call cannot be interrupted; it finishes on its own thread
		// and frees the slot then. Its result is dropped.
		return backend.Identity{}, fmt.Errorf("pam: transaction abandoned: %w: %w", backend.ErrUnavailable, ctx.Err())
	}
}

// acceptable reports whether the credentials may be handed to libpam: C
// strings end at NUL, so "alice\x00x" would be checked as "alice".
func acceptable(username, password string) bool {
	return username != "" && password != "" &&
		len(username) <= maxUsernameBytes && len(password) <= maxPasswordBytes &&
		!strings.ContainsRune(username, 0) && !strings.ContainsRune(password, 0)
}

type result struct {
	id  backend.Identity
	err error
}

// transact runs one PAM transaction. It locks its goroutine to the OS
// thread and never unlocks it, so the runtime discards the thread when the
// goroutine ends: state a module leaves on the thread dies with it.
func (b *Backend) transact(username, password string) result {
	runtime.LockOSThread()
	tx, err := b.start(username, &conversation{user: username, password: password, log: b.log})
	if err != nil {
		return result{err: b.failure("pam_start", username, err)}
	}
	defer func() {
		if err := tx.End(); err != nil {
			b.log.Debug("pam_end failed", slog.Any("error", err))
		}
	}()
	const flags = pam.Silent | pam.DisallowNullAuthtok
	if err := tx.Authenticate(flags); err != nil {
		return result{err: b.failure("pam_authenticate", username, err)}
	}
	if err := tx.AcctMgmt(flags); err != nil {
		return result{err: b.failure("pam_acct_mgmt", username, err)}
	}
	name, err := tx.GetItem(pam.User)
	if err == nil && name == "" {
		err = errors.New("PAM_USER is empty")
	}
	if err != nil {
		return result{err: fmt.Errorf("pam: reading PAM_USER: %w: %w", backend.ErrUnavailable, err)}
	}
	return result{id: backend.Identity{Username: name}}
}

func (b *Backend) start(username string, conv pam.ConversationHandler) (*pam.Transaction, error) {
	if b.confDir != "" {
		return pam.StartConfDir(b.service, username, conv, b.confDir)
	}
	return pam.Start(b.service, username, conv)
}
