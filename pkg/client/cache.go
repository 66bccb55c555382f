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

	"github.com/gatehouse-auth/gatehouse/pkg/atomicfile"
)

// Cache is the token cache of `gatehouse login`, in the spirit of st2's
// ~/.st2/token-USER, kept per server so that logging in to a second server
// leaves the first one's tokens alone:
//
//	DIR/servers/SERVER/token-USER     one user's token from that server
//	DIR/servers/SERVER/current-user   the user of the last login there
//
// SERVER is the server's URL and USER the user name, each with every byte
// outside [A-Za-z0-9._@+-] written %XX (a very long one is replaced by its
// hash). A token file holds
//
//	{"token": "…", "expire_timestamp": 1790000000, "expiry": "2026-…Z",
//	 "user": "joe", "url": "http://127.0.0.1:9100"}
//
// (token and expire_timestamp, in whole Unix seconds, are st2's fields).
// Directories are made 0700 and every file 0600, replaced atomically.
// Migrate moves the files of the first layout (DIR/token-USER and
// DIR/current-user, one server for all) into this one.
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

// ServerDir is the directory holding the tokens of the server at
// serverURL (as Client.URL writes it).
func (c Cache) ServerDir(serverURL string) string {
	return filepath.Join(c.Dir, "servers", safeName("", serverURL))
}

// Path is the file holding user's token from the server at serverURL.
func (c Cache) Path(serverURL, user string) string {
	return filepath.Join(c.ServerDir(serverURL), safeName("token-", user))
}

// safeName is prefix plus s with every byte outside [A-Za-z0-9._@+-]
// written %XX, so any user name (the server allows "/") or URL is one safe
// file name; a very long one is replaced by its hash.
func safeName(prefix, s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || strings.IndexByte("._@+-", ch) >= 0 {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	if b.Len() > 200 || b.String() == "." || b.String() == ".." {
		sum := sha256.Sum256([]byte(s))
		return prefix + "sha256-" + hex.EncodeToString(sum[:])
	}
	return prefix + b.String()
}

// Load reads user's cached token from the server at serverURL;
// ErrNotCached when there is none.
func (c Cache) Load(serverURL, user string) (CachedToken, error) {
	return readTokenFile(c.Path(serverURL, user), user)
}

func readTokenFile(path, user string) (CachedToken, error) {
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

// Save stores t as t.User's token from the server t.URL.
func (c Cache) Save(t CachedToken) error {
	if t.URL == "" {
		return errors.New("token cache: a token without its server URL")
	}
	data, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	return c.write(c.Path(t.URL, t.User), append(data, '\n'))
}

// Remove deletes user's cached token from the server at serverURL; a
// missing one is not an error.
func (c Cache) Remove(serverURL, user string) error {
	return removeFile(c.Path(serverURL, user))
}

func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("token cache: %w", err)
	}
	return nil
}

const currentUserFile = "current-user"

// CurrentUser is the user of the last login to the server at serverURL;
// ErrNotCached when none.
func (c Cache) CurrentUser(serverURL string) (string, error) {
	return readCurrentUser(filepath.Join(c.ServerDir(serverURL), currentUserFile))
}

func readCurrentUser(path string) (string, error) {
	data, err := os.ReadFile(path)
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

// SetCurrentUser remembers user as the current user of the server at
// serverURL.
func (c Cache) SetCurrentUser(serverURL, user string) error {
	return c.write(filepath.Join(c.ServerDir(serverURL), currentUserFile), []byte(user+"\n"))
}

// ClearCurrentUser forgets the current user of the server at serverURL if
// it is user.
func (c Cache) ClearCurrentUser(serverURL, user string) error {
	if cur, err := c.CurrentUser(serverURL); err != nil || cur != user {
		return nil
	}
	return removeFile(filepath.Join(c.ServerDir(serverURL), currentUserFile))
}

// write replaces path with data: a 0600 temporary file beside it, synced,
// then renamed over the old one, so a reader sees the old or the new file,
// never part of one. Missing directories are made 0700.
func (c Cache) write(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	_ = os.Chmod(c.Dir, 0o700) // tighten a directory made earlier with a looser mode
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("token cache: %w", err)
	}
	return nil
}
