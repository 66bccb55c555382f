package postgres

// Channel returns the NOTIFY channel of s, for tests.
func (s *Store) Channel() string { return s.channel }

// Listener timing, for tests' deadlines.
const (
	ListenIdle        = listenIdle
	ListenPingTimeout = listenPingTimeout
	RetryMax          = retryMax
)
