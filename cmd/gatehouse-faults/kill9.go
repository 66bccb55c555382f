package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // read the SQLite file directly

	"github.com/gatehouse-auth/gatehouse/pkg/token"
)

const kill9Rounds = 3

// kill9 is scenario 5: on SQLite and on PostgreSQL, logins run back to back
// (8 workers) and the server is killed with SIGKILL at a random moment, three
// times; after each restart every token whose 201 reached the client is
// introspected: none may be lost.
func (e *env) kill9() (*report, error) {
	r := &report{Title: "kill9: kill -9 under issuing load, then restart"}
	for _, kind := range []string{"sqlite", "postgres"} {
		var dbURL string
		if kind == "sqlite" {
			dbURL = "sqlite://" + filepath.Join(e.work, "kill9.db")
		} else {
			var err error
			if dbURL, err = e.freshDB("faults_kill9"); err != nil {
				return nil, err
			}
		}
		issued := newTokenPool()
		var svc string
		var received, inflight, lostTotal, restarts int
		var restartTimes latencies
		var lostAll []string
		for round := 0; round <= kill9Rounds; round++ {
			t0 := time.Now()
			g, err := e.startGatehouse(instanceConfig{Name: fmt.Sprintf("kill9-%s-%d", kind, round), DBURL: dbURL})
			if err != nil {
				return nil, err
			}
			if round == 0 {
				if svc, err = mustToken(g.Base, "svc", 0); err != nil {
					g.Kill()
					return nil, err
				}
				issued.add(svc, "svc")
			} else {
				restarts++
				restartTimes = append(restartTimes, time.Since(t0))
				// Every token that reached a client so far, after a crash.
				vctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				lost, _ := validateAll(vctx, g.Base, svc, issued.all())
				cancel()
				lostTotal += len(lost)
				lostAll = append(lostAll, lost...)
			}
			if round == kill9Rounds {
				g.Stop(30 * time.Second)
				break
			}
			hc := newClient(16, true, 10*time.Second)
			rec := &recorder{}
			lctx, stop := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				closedLoop(lctx, 8, func() sample {
					s := login(hc, g.Base, "joe", passwords["joe"], 0)
					if s.Token != "" {
						issued.add(s.Token, "joe")
					}
					return s
				}, rec)
			}()
			time.Sleep(time.Second + rand.N(time.Second))
			_ = g.Signal(syscall.SIGKILL)
			g.Wait(10 * time.Second)
			stop()
			<-done
			for _, s := range rec.snapshot() {
				switch {
				case s.Token != "":
					received++
				case s.Status == 0:
					inflight++
				}
			}
		}
		rows, err := tokenHashes(kind, dbURL)
		ghosts, missing := 0, 0
		if err == nil {
			known := map[string]bool{}
			for t := range issued.all() {
				h := token.HashToken(t)
				known[h] = true
				if !rows[h] {
					missing++
				}
			}
			for h := range rows {
				if !known[h] {
					ghosts++
				}
			}
		}
		r.fig(kind+": kills / restarts", "%d / %d; restart to serving: %s", kill9Rounds, restarts, restartTimes)
		r.fig(kind+": 201s that reached the client", "%d (+1 service token)", received)
		r.fig(kind+": requests cut by the kill (no answer)", "%d", inflight)
		if err != nil {
			r.fig(kind+": token rows", "could not read: %v", err)
		} else {
			r.fig(kind+": token rows after the last restart", "%d; missing for a 201: %d; committed but never answered: %d", len(rows), missing, ghosts)
		}
		r.bar(kind+": every token whose 201 reached the client valid after each restart", lostTotal == 0 && missing == 0,
			fmt.Sprintf("%d lost %s", lostTotal+missing, strings.Join(first(lostAll, 3), "; ")), "0 lost")
	}
	return r, nil
}

// tokenHashes reads every token hash straight from the database.
func tokenHashes(kind, dbURL string) (map[string]bool, error) {
	out := map[string]bool{}
	if kind == "postgres" {
		m, err := pgTokenHashes(dbURL)
		for h := range m {
			out[h] = true
		}
		return out, err
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
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out[h] = true
	}
	return out, rows.Err()
}
