package client

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Cache is the token cache of `gatehouse login`, in the spirit of st2's
// ~/.st2/token-USER: one file per user, DIR/token-USER, holding
//
//	{"token": "…", "expire_timestamp": 1790000000, "expiry": "2026-…Z",
//	 "user": "joe", "url": "http://127.0.0.1:9100"}
//
// (token and expire_timestamp, in whole Unix seconds, are st2's fields),
// and DIR/current-user naming the user of the last login. DIR is made
// 0700 and every file 0600, replaced atomically.
type Cache struct {
	Dir string
}

// DefaultCache is os.UserConfigDir()/gatehouse: $XDG_CONFIG_HOME/gatehouse
// or ~/.config/gatehouse on Linux.
func DefaultCache() (Cache, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return Cache{}, fmt.Errorf("no place for the token cache: %w", err)
	}
	return Cache{Dir: filepath.Join(dir, "gatehouse")}, nil
}

// CachedToken is one user's cached token.
type CachedToken struct {
	Token           string `json:"token"`
	ExpireTimestamp int64  `json:"expire_timestamp"`
	Expiry          string `json:"expiry,omitempty"`
	User            string `json:"user"`
	URL             string `json:"url"`
}

// NewCachedToken is what Save stores for a token issued by the server at
// serverURL.
func NewCachedToken(t Token, serverURL string) CachedToken {
	exp, _ := t.ExpiresAt()
	return CachedToken{Token: t.Token, ExpireTimestamp: exp.Unix(), Expiry: t.Expiry, User: t.User, URL: serverURL}
}

// ExpiresAt is Expiry, or expire_timestamp when Expiry is missing (a file
// written by hand, or by st2).
func (t CachedToken) ExpiresAt() time.Time {
	if e, err := time.Parse(time.RFC3339Nano, t.Expiry); err == nil {
		return e
	}
	return time.Unix(t.ExpireTimestamp, 0).UTC()
}

// ValidFor reports whether the token is still good for at least margin.
func (t CachedToken) ValidFor(now time.Time, margin time.Duration) bool {
	return now.Add(margin).Before(t.ExpiresAt())
}

// ErrNotCached means there is no cached token for the user (or no current
// user).
var ErrNotCached = errors.New("not cached")

// Path is the file holding user's token.
func (c Cache) Path(user string) string {
	return filepath.Join(c.Dir, tokenFileName(user))
}

// tokenFileName is "token-" plus user with every byte outside
// [A-Za-z0-9._@+-] written %XX, so any user name (the server allows "/")
// is one safe file name; a very long one is replaced by its hash.
func tokenFileName(user string) string {
	var b strings.Builder
	for i := 0; i < len(user); i++ {
		ch := user[i]
		if 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || strings.IndexByte("._@+-", ch) >= 0 {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	if b.Len() > 200 {
		sum := sha256.Sum256([]byte(user))
		return "token-sha256-" + hex.EncodeToString(sum[:])
	}
	return "token-" + b.String()
}

// Load reads user's cached token; ErrNotCached when there is none.
func (c Cache) Load(user string) (CachedToken, error) {
	path := c.Path(user)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return CachedToken{}, ErrNotCached
	}
	if err != nil {
		return CachedToken{}, fmt.Errorf("token cache: %w", err)
	}
	var t CachedToken
	if err := json.Unmarshal(data, &t); err != nil || t.Token == "" {
		return CachedToken{}, fmt.Errorf("token cache %s is damaged", path)
	}
	if t.User == "" {
		t.User = user
	}
	return t, nil
}

// Save stores t as t.User's token.
func (c Cache) Save(t CachedToken) error {
	data, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	return c.write(tokenFileName(t.User), append(data, '\n'))
}

// Remove deletes user's cached token; a missing one is not an error.
func (c Cache) Remove(user string) error {
	if err := os.Remove(c.Path(user)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("token cache: %w", err)
	}
	return nil
}

const currentUserFile = "current-user"

// CurrentUser is the user of the last login; ErrNotCached when none.
func (c Cache) CurrentUser() (string, error) {
	data, err := os.ReadFile(filepath.Join(c.Dir, currentUserFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNotCached
	}
	if err != nil {
		return "", fmt.Errorf("token cache: %w", err)
	}
	user := strings.TrimRight(string(data), "\r\n")
	if user == "" {
		return "", ErrNotCached
	}
	return user, nil
}

// SetCurrentUser remembers user as the current user.
func (c Cache) SetCurrentUser(user string) error {
	return c.write(currentUserFile, []byte(user+"\n"))
}

// ClearCurrentUser forgets the current user if it is user.
func (c Cache) ClearCurrentUser(user string) error {
	if cur, err := c.CurrentUser(); err != nil || cur != user {
		return nil
	}
	if err := os.Remove(filepath.Join(c.Dir, currentUserFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("token cache: %w", err)
	}
	return nil
}

// write replaces DIR/name with data: a 0600 temporary file in DIR, synced,
// then renamed over the old one, so a reader sees the old or the new file,
// never part of one.
func (c Cache) write(name string, data []byte) (err error) {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	_ = os.Chmod(c.Dir, 0o700) // tighten a directory made earlier with a looser mode
	f, err := os.CreateTemp(c.Dir, "."+name+".tmp*")
	if err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	if err = os.Rename(f.Name(), filepath.Join(c.Dir, name)); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	return nil
}
