package auth

// WaitBackground waits for the writes keyUsed started.
func (s *Service) WaitBackground() { s.bg.Wait() }

// LoginsWaiting is how many login attempts wait for in-flight ones.
func (s *Service) LoginsWaiting() int {
	s.logins.mu.Lock()
	defer s.logins.mu.Unlock()
	return s.logins.waiting
}
