package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// env is what every scenario shares: the binary, a work directory, the
// htpasswd file and the private PostgreSQL cluster.
type env struct {
	bin      string // bin/gatehouse
	work     string // scratch directory (configs, logs, SQLite files)
	users    string // htpasswd file
	pgScript string // scripts/pg-private.sh
	pgDir    string // the private cluster's directory (DIR/data is PGDATA)
	pgURL    string // its admin URL (database postgres)
}

// absPaths makes each path absolute (the servers run in the work
// directory).
func (e *env) absPaths(paths ...*string) {
	for _, p := range paths {
		if abs, err := filepath.Abs(*p); err == nil {
			*p = abs
		}
	}
}

// Passwords of the users every scenario's htpasswd file holds.
var passwords = map[string]string{
	"svc":   "svc-password",   // a service account: introspects
	"admin": "admin-password", // an admin
	"joe":   "joe-password",   // logs in under load
	"ann":   "ann-password",
	"slow":  "slow-password", // bcrypt cost 12: a login that takes a while
}

// setUsers writes the htpasswd file with the bin's own `htpasswd set`:
// bcrypt cost 4 (fast logins under load), 12 for "slow".
func (e *env) setUsers() error {
	e.users = filepath.Join(e.work, "htpasswd")
	for _, u := range []string{"svc", "admin", "joe", "ann", "slow"} {
		cost := "4"
		if u == "slow" {
			cost = "12"
		}
		cmd := exec.Command(e.bin, "htpasswd", "set", u, "--file", e.users, "--cost", cost)
		cmd.Stdin = strings.NewReader(passwords[u] + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("htpasswd set %s: %v: %s", u, err, out)
		}
	}
	return nil
}

// freshDB drops and creates database name on the private cluster and
// returns its URL.
func (e *env) freshDB(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, e.pgURL)
	if err != nil {
		return "", fmt.Errorf("private cluster: %w", err)
	}
	defer conn.Close(ctx)
	id := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+id+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+id); err != nil {
		return "", err
	}
	u, err := url.Parse(e.pgURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// pgctl runs scripts/pg-private.sh CMD DIR [args] (stop, start).
func (e *env) pgctl(args ...string) error {
	a := append([]string{args[0], e.pgDir}, args[1:]...)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, e.pgScript, a...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg-private.sh %s: %v: %s", strings.Join(a, " "), err, out)
	}
	return nil
}

// pgProcesses returns the postmaster of the private cluster (from
// postmaster.pid) and its children, which are every other process of
// the cluster.
func (e *env) pgProcesses() (postmaster int, children []int, err error) {
	b, err := os.ReadFile(filepath.Join(e.pgDir, "data", "postmaster.pid"))
	if err != nil {
		return 0, nil, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	postmaster, err = strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return 0, nil, fmt.Errorf("postmaster.pid: %w", err)
	}
	return postmaster, childrenOf(postmaster), nil
}

// childrenOf lists the processes whose parent is pid, from /proc.
func childrenOf(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, d := range ents {
		p, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/status")
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PPid:"); ok {
				if pp, _ := strconv.Atoi(strings.TrimSpace(v)); pp == pid {
					out = append(out, p)
				}
				break
			}
		}
	}
	return out
}

// pgFreeze sends SIGSTOP to the postmaster first (so it forks no one
// new), then to every child, looking again until no new one shows up. It
// returns how many processes it froze.
func (e *env) pgFreeze() (int, error) {
	pm, _, err := e.pgProcesses()
	if err != nil {
		return 0, err
	}
	if err := syscall.Kill(pm, syscall.SIGSTOP); err != nil {
		return 0, fmt.Errorf("SIGSTOP postmaster %d: %w", pm, err)
	}
	frozen := map[int]bool{pm: true}
	for range 3 {
		for _, c := range childrenOf(pm) {
			if !frozen[c] {
				if err := syscall.Kill(c, syscall.SIGSTOP); err == nil {
					frozen[c] = true
				}
			}
		}
	}
	return len(frozen), nil
}

// pgThaw sends SIGCONT to the children and then the postmaster.
func (e *env) pgThaw() error {
	pm, children, err := e.pgProcesses()
	if err != nil {
		return err
	}
	for _, c := range children {
		_ = syscall.Kill(c, syscall.SIGCONT)
	}
	return syscall.Kill(pm, syscall.SIGCONT)
}

// pgTokenHashes returns the hashes of every token in the database at url.
func pgTokenHashes(dbURL string) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT token_hash FROM tokens`)
	out := map[string]bool{}
	var h string
	_, err = pgx.ForEachRow(rows, []any{&h}, func() error { out[h] = true; return nil })
	return out, err
}
