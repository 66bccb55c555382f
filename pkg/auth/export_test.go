package auth

// WaitBackground waits for the writes keyUsed started.
func (s *Service) WaitBackground() { s.bg.Wait() }
