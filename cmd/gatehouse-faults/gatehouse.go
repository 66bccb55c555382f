package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// instanceConfig describes one `gatehouse serve` to start.
type instanceConfig struct {
	Name    string // files are DIR/NAME.yaml, DIR/NAME.log
	DBURL   string
	Backend string // default flat_file
	// BackendKwargs is the YAML flow mapping of backend_kwargs, e.g.
	// `{file_path: /x/users}`. Default: the env's htpasswd file.
	BackendKwargs string
	// Extra is appended to the YAML file as is (other sections).
	Extra string
	// AuthExtra is appended inside the auth section (indented by 2).
	AuthExtra string
	// OnRequest, when set, gets the request id and status of every line of
	// the access log (called from the log reader; keep it cheap).
	OnRequest func(id string, status int)
}

// gatehouse is a running `gatehouse serve`.
type gatehouse struct {
	cfg     instanceConfig
	cmd     *exec.Cmd
	Addr    string // host:port it listens on
	Base    string // http://host:port
	LogPath string
	Started time.Time

	done     chan struct{} // closed when the process has exited
	exitCode int
	waitErr  error

	mu       sync.Mutex
	requests int // access log lines seen
	errLines []string
}

// startGatehouse writes the configuration, starts the binary and waits (at
// most 30 s) until it logs the address it serves on.
func (e *env) startGatehouse(c instanceConfig) (*gatehouse, error) {
	cfgPath, err := e.writeConfig(&c)
	if err != nil {
		return nil, err
	}
	g := &gatehouse{cfg: c, LogPath: filepath.Join(e.work, c.Name+".log"), done: make(chan struct{})}
	logf, err := os.OpenFile(g.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	g.cmd = exec.Command(e.bin, "serve", "--config", cfgPath)
	g.cmd.Dir = e.work
	// GOGC=100, not Gatehouse's default 400: the soak's heap bar compares
	// readings taken at two moments, and at 400 the heap swings between the
	// live size and five times it, which would say more about when the
	// collector last ran than about a leak.
	g.cmd.Env = append(os.Environ(), "GOGC=100")
	// If the checker dies, so does its server: nothing outlives a run.
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := g.cmd.StderrPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	g.cmd.Stdout = logf
	if err := g.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	g.Started = time.Now()
	addrc := make(chan string, 1)
	go g.readLog(stderr, logf, addrc)
	if err := g.waitServing(addrc); err != nil {
		return nil, err
	}
	return g, nil
}

// writeConfig fills c's defaults and writes its YAML file, DIR/NAME.yaml.
func (e *env) writeConfig(c *instanceConfig) (string, error) {
	if c.Backend == "" {
		c.Backend = "flat_file"
	}
	if c.BackendKwargs == "" {
		c.BackendKwargs = fmt.Sprintf("{file_path: %q}", e.users)
	}
	var y strings.Builder
	// debug: the checker reads every request's access-log line, and
	// successful introspections are logged at debug level.
	fmt.Fprintf(&y, "auth:\n  host: 127.0.0.1\n  port: 0\n  debug: true\n  backend: %s\n  backend_kwargs: %s\n", c.Backend, c.BackendKwargs)
	fmt.Fprintf(&y, "  service_users: [svc]\n  admin_users: [admin]\n  token_ttl: 86400\n")
	// Servers stopped at the end of a scenario need not drain (only the
	// sigterm scenario measures the drain, and sets its own delay).
	if configHasKey("shutdown_delay") && !strings.Contains(c.AuthExtra, "shutdown_delay") {
		c.AuthExtra = strings.TrimSpace(c.AuthExtra + "\nshutdown_delay: 0")
	}
	if c.AuthExtra != "" {
		for _, l := range strings.Split(strings.TrimRight(c.AuthExtra, "\n"), "\n") {
			fmt.Fprintf(&y, "  %s\n", l)
		}
	}
	fmt.Fprintf(&y, "database:\n  url: %q\n", c.DBURL)
	y.WriteString(c.Extra)
	cfgPath := filepath.Join(e.work, c.Name+".yaml")
	return cfgPath, os.WriteFile(cfgPath, []byte(y.String()), 0o600)
}

// waitServing waits (at most 30 s) for the address the server logs.
func (g *gatehouse) waitServing(addrc <-chan string) error {
	select {
	case a := <-addrc:
		g.Addr, g.Base = a, "http://"+a
		return nil
	case <-g.done:
		return fmt.Errorf("gatehouse %s exited (%v) before serving; log: %s\n%s", g.cfg.Name, g.waitErr, g.LogPath, tail(g.LogPath, 20))
	case <-time.After(30 * time.Second):
		g.Kill()
		return fmt.Errorf("gatehouse %s did not serve within 30 s; log: %s\n%s", g.cfg.Name, g.LogPath, tail(g.LogPath, 20))
	}
}

// readLog copies the server's log to its file, leaving out the access log
// lines (one per request: far too many in a soak) except failed ones, and
// then reaps the process.
func (g *gatehouse) readLog(r interface{ Read([]byte) (int, error) }, logf *os.File, addrc chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	sent := false
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.Contains(line, []byte(`"msg":"request"`)) {
			id, status := jsonString(line, "request_id"), jsonInt(line, "status")
			g.mu.Lock()
			g.requests++
			g.mu.Unlock()
			if g.cfg.OnRequest != nil {
				g.cfg.OnRequest(id, status)
			}
			if status < 500 {
				continue
			}
		}
		if bytes.Contains(line, []byte(`"level":"ERROR"`)) {
			g.mu.Lock()
			if len(g.errLines) < 20 {
				g.errLines = append(g.errLines, string(line))
			}
			g.mu.Unlock()
		}
		// line is the scanner's buffer: never append to it.
		_, _ = logf.Write(line)
		_, _ = logf.Write([]byte{'\n'})
		if !sent && bytes.Contains(line, []byte(`"msg":"serving"`)) {
			if a := jsonString(line, "addr"); a != "" {
				addrc <- a
				sent = true
			}
		}
	}
	err := g.cmd.Wait()
	logf.Close()
	g.waitErr = err
	g.exitCode = 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		g.exitCode = ee.ExitCode() // -1 when killed by a signal
	}
	close(g.done)
}

// Pid is the server's process id.
func (g *gatehouse) Pid() int { return g.cmd.Process.Pid }

// Signal sends sig to the server.
func (g *gatehouse) Signal(sig syscall.Signal) error { return g.cmd.Process.Signal(sig) }

// Kill sends SIGKILL and waits (at most 10 s) for the process to be reaped.
func (g *gatehouse) Kill() {
	_ = g.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
	}
}

// Stop sends SIGTERM and waits at most d; then SIGKILL. It returns the exit
// code (-1 for a signal) and whether the process exited within d.
func (g *gatehouse) Stop(d time.Duration) (int, bool) {
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	return g.Wait(d)
}

// Wait waits at most d for the process to exit; then kills it.
func (g *gatehouse) Wait(d time.Duration) (int, bool) {
	select {
	case <-g.done:
		return g.exitCode, true
	case <-time.After(d):
		g.Kill()
		return g.exitCode, false
	}
}

// Exited reports whether the process has exited.
func (g *gatehouse) Exited() bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

// ErrorLines are the first ERROR lines the server logged.
func (g *gatehouse) ErrorLines() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.errLines...)
}

// jsonString extracts "key":"value" from a JSON log line without parsing
// it (values in these lines have no escaped quotes).
func jsonString(line []byte, key string) string {
	k := []byte(`"` + key + `":"`)
	i := bytes.Index(line, k)
	if i < 0 {
		return ""
	}
	rest := line[i+len(k):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

// jsonInt extracts "key":123 from a JSON log line.
func jsonInt(line []byte, key string) int {
	k := []byte(`"` + key + `":`)
	i := bytes.Index(line, k)
	if i < 0 {
		return 0
	}
	rest := line[i+len(k):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(string(rest[:j]))
	return n
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
