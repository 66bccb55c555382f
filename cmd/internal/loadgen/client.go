package loadgen

import (
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"
)

// NewClient is an HTTP client for loopback load: keep-alive connections
// (up to conns of them, idle), a hard timeout (set it far above every bar,
// so that a slow answer is measured rather than cut), no proxy from the
// environment, and a dialer that refuses any address but a loopback one.
func NewClient(conns int, keepAlive bool, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		Proxy:               nil, // loopback only: never a proxy from the environment
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, Control: loopbackOnly}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		DisableKeepAlives:   !keepAlive,
		DisableCompression:  true,
	}}
}

// loopbackOnly is a net.Dialer Control: it runs after the socket is made
// and before it connects, so a refused address sees no packet.
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("loadgen: %s %s is not a loopback address", network, address)
	}
	return nil
}
