package local

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Password length limits, in characters (Unicode code points), from
// DESIGN.md's password rule.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 1024
)

// ErrPolicy is wrapped by every CheckPolicy refusal; callers answer 400
// with the error's text, which says what is wrong and never repeats the
// password.
var ErrPolicy = errors.New("password refused")

// CheckPolicy reports whether password may be set for the user name: 8 to
// 1024 characters, and not the user name itself (compared without regard
// to case, so "Alice" is refused for alice).
func CheckPolicy(name, password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLength:
		return fmt.Errorf("%w: it must be at least %d characters long", ErrPolicy, MinPasswordLength)
	case n > MaxPasswordLength:
		return fmt.Errorf("%w: it must be at most %d characters long", ErrPolicy, MaxPasswordLength)
	case strings.EqualFold(password, name):
		return fmt.Errorf("%w: it must not be the user name", ErrPolicy)
	}
	return nil
}

// CheckPolicy is the package's CheckPolicy, so that callers holding the
// backend (the user API) need not import this package.
func (b *Backend) CheckPolicy(name, password string) error { return CheckPolicy(name, password) }
