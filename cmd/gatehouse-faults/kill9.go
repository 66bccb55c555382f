package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // read the SQLite file directly

	"github.com/gatehouse-auth/gatehouse/cmd/internal/loadgen"
)

const kill9Rounds = 3

// kill9 is scenario 5, once per store (SQLite, then PostgreSQL): logins
// run back to back (8 workers) and the server is killed with SIGKILL at a
// random moment, three times; after each restart every token whose 201
// reached the client is introspected: none may be lost. Both stores
// report into one table.
type kill9 struct {
	e        *env
	kind     string // sqlite or postgres
	dbURL    string
	g        *gatehouse
	started  int // servers started, for their names
	svc      string
	issued   *tokenPool
	received atomic.Int64 // 201s that reached the client
	cut      atomic.Int64 // requests the kill left without an answer
	restarts loadgen.Latencies
	lost     []string
}

func (k *kill9) rounds() int { return kill9Rounds }

func (k *kill9) setup() error {
	if k.kind == "sqlite" {
		k.dbURL = "sqlite://" + filepath.Join(k.e.work, "kill9.db")
	} else {
		var err error
		if k.dbURL, err = k.e.freshDB("faults_kill9"); err != nil {
			return err
		}
	}
	if err := k.start(); err != nil {
		return err
	}
	k.issued = newTokenPool()
	var err error
	if k.svc, err = mustToken(k.g.Base, "svc", 0); err != nil {
		return err
	}
	k.issued.add(k.svc, "svc")
	return nil
}

// start starts the next server on the same store.
func (k *kill9) start() error {
	var err error
	k.g, err = k.e.startGatehouse(instanceConfig{Name: fmt.Sprintf("kill9-%s-%d", k.kind, k.started), DBURL: k.dbURL})
	k.started++
	return err
}

func (k *kill9) load(ctx context.Context) {
	hc := loadgen.NewClient(16, true, 10*time.Second)
	loadgen.Closed(ctx, 8, func() loadgen.Sample {
		s := login(hc, k.g.Base, "joe", passwords["joe"], 0)
		if s.Token != "" {
			k.issued.add(s.Token, "joe")
		}
		return s
	}, loadgen.RecorderFunc(func(s loadgen.Sample) {
		switch {
		case s.Token != "":
			k.received.Add(1)
		case s.Status == 0:
			k.cut.Add(1)
		}
	}))
}

// fault kills the server after 1–2 s (random) of load.
func (k *kill9) fault() error {
	time.Sleep(time.Second + rand.N(time.Second))
	_ = k.g.Signal(syscall.SIGKILL)
	k.g.Wait(10 * time.Second)
	return nil
}

// again restarts the server after a kill and introspects every token that
// reached a client so far.
func (k *kill9) again() error {
	t0 := time.Now()
	if err := k.start(); err != nil {
		return err
	}
	k.restarts = append(k.restarts, time.Since(t0))
	vctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lost, _ := validateAll(vctx, k.g.Base, k.svc, k.issued.all())
	k.lost = append(k.lost, lost...)
	return nil
}

func (k *kill9) close() {
	if k.g != nil {
		k.g.Stop(30 * time.Second)
	}
}

// judge restarts after the last kill, validates again, and compares the
// tokens received with the table.
func (k *kill9) judge(r *loadgen.Report) error {
	if err := k.again(); err != nil {
		return err
	}
	k.g.Stop(30 * time.Second)
	hashes, err := tokenHashes(k.kind, k.dbURL)
	rows := checkRows(k.issued.all(), hashes, err)
	r.Fig(k.kind+": kills / restarts", "%d / %d; restart to serving: %s", kill9Rounds, len(k.restarts), k.restarts)
	r.Fig(k.kind+": 201s that reached the client", "%d (+1 service token)", k.received.Load())
	r.Fig(k.kind+": requests cut by the kill (no answer)", "%d", k.cut.Load())
	if rows.err != nil {
		r.Fig(k.kind+": token rows", "could not read: %v", rows.err)
	} else {
		r.Fig(k.kind+": token rows after the last restart", "%d; missing for a 201: %d; committed but never answered: %d", rows.rows, rows.missing, rows.ghosts)
	}
	r.Bar(k.kind+": every token whose 201 reached the client valid after each restart", len(k.lost) == 0 && rows.missing == 0,
		fmt.Sprintf("%d lost %s", len(k.lost)+rows.missing, strings.Join(loadgen.First(k.lost, 3), "; ")), "0 lost")
	return nil
}

// tokenHashes reads every token hash straight from the database.
func tokenHashes(kind, dbURL string) (map[string]bool, error) {
	if kind == "postgres" {
		return pgTokenHashes(dbURL)
	}
	path := strings.TrimPrefix(dbURL, "sqlite://")
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT token_hash FROM tokens`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out[h] = true
	}
	return out, rows.Err()
}
