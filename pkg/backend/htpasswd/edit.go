package htpasswd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// ErrInvalidUsername is wrapped by the errors of ValidateUsername.
var ErrInvalidUsername = errors.New("invalid user name")

// DefaultCost is the bcrypt cost SetUser uses when given 0, the same as
// bcrypt.DefaultCost and `htpasswd -B`.
const DefaultCost = bcrypt.DefaultCost

// newFileMode is the mode of a file created by SetUser.
const newFileMode fs.FileMode = 0o600

// ValidateUsername checks that user can be written to and read back from an
// htpasswd file: non-empty, valid UTF-8, no ':', no control characters, no
// white space at either end, and no leading '#' (the line would be a
// comment).
func ValidateUsername(user string) error {
	var problem string
	switch {
	case user == "":
		problem = "empty"
	case !utf8.ValidString(user):
		problem = "not valid UTF-8"
	case strings.ContainsRune(user, ':'):
		problem = "contains ':'"
	case strings.ContainsFunc(user, unicode.IsControl):
		problem = "contains a control character"
	case strings.TrimSpace(user) != user:
		problem = "starts or ends with white space"
	case user[0] == '#':
		problem = "starts with '#'"
	default:
		return nil
	}
	return fmt.Errorf("htpasswd: %w %q: %s", ErrInvalidUsername, user, problem)
}

// SetUser sets user's password in the htpasswd file at path, as a "$2y$"
// bcrypt hash of the given cost (0 means DefaultCost). An existing
// line for user is replaced in place (later duplicates are dropped); other
// lines, comments included, are kept as they are. A missing file is created
// with mode 0600; an existing one keeps its mode. The file is replaced
// atomically (temporary file in the same directory, then rename); if path
// is a symbolic link, its target is replaced. Passwords longer than 72 bytes
// are refused, as bcrypt would ignore the rest.
func SetUser(path, user, password string, cost int) error {
	if err := ValidateUsername(user); err != nil {
		return err
	}
	hashed, err := bcryptHash(password, cost)
	if err != nil {
		return err
	}
	return editFile(path, true, func(content string) (string, bool) {
		out, _ := replaceUser(content, user, user+":"+hashed+"\n")
		return out, true
	})
}

// DeleteUser removes every line for user from the htpasswd file at path and
// reports whether there was one. The file is rewritten like SetUser does,
// and left untouched when user is not in it. A missing file is an error.
func DeleteUser(path, user string) (found bool, err error) {
	if err := ValidateUsername(user); err != nil {
		return false, err
	}
	err = editFile(path, false, func(content string) (string, bool) {
		content, found = replaceUser(content, user, "")
		return content, found
	})
	return found, err
}

// bcryptHash hashes password as "$2y$", the spelling of `htpasswd -B`.
func bcryptHash(password string, cost int) (string, error) {
	if password == "" {
		return "", errors.New("htpasswd: empty password")
	}
	if cost == 0 {
		cost = DefaultCost
	}
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return "", fmt.Errorf("htpasswd: bcrypt cost %d outside %d..%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("htpasswd: %w", err)
	}
	return "$2y$" + string(h[4:]), nil
}

// replaceUser puts newLine where user's first line was and drops user's
// other lines; with no such line, newLine is appended. An empty newLine
// just deletes. found reports whether user had a line.
func replaceUser(content, user, newLine string) (out string, found bool) {
	var sb strings.Builder
	for line := range strings.Lines(content) {
		if u, _, ok := ParseLine(line); !ok || u != user {
			sb.WriteString(line)
			continue
		}
		if !found {
			sb.WriteString(newLine)
		}
		found = true
	}
	if !found && newLine != "" {
		if sb.Len() > 0 && !strings.HasSuffix(sb.String(), "\n") {
			sb.WriteByte('\n')
		}
		sb.WriteString(newLine)
	}
	return sb.String(), found
}

// editFile applies edit to the file's content and, if edit says so, writes
// the result back atomically. With create, a missing file is treated as
// empty and created with newFileMode.
func editFile(path string, create bool, edit func(string) (out string, write bool)) error {
	target, content, mode, err := readForEdit(path, create)
	if err != nil {
		return err
	}
	out, write := edit(content)
	if !write {
		return nil
	}
	return writeAtomic(target, []byte(out), mode)
}

// readForEdit resolves symbolic links and returns the real path, content
// and permission bits of the file. With create, a missing file gives "" and
// newFileMode.
func readForEdit(path string, create bool) (target, content string, mode fs.FileMode, err error) {
	target, err = filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		return path, "", newFileMode, nil
	}
	if err != nil {
		return "", "", 0, fmt.Errorf("htpasswd: %w", err)
	}
	fi, err := os.Stat(target)
	if err != nil {
		return "", "", 0, fmt.Errorf("htpasswd: %w", err)
	}
	data, err := os.ReadFile(target)
	if err != nil {
		return "", "", 0, fmt.Errorf("htpasswd: %w", err)
	}
	return target, string(data), fi.Mode().Perm(), nil
}
