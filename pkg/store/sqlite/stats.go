package sqlite

import "github.com/gatehouse-auth/gatehouse/pkg/store"

var _ store.PoolStater = (*Store)(nil)

// PoolStats reports the read pool and the single writer together, for
// metrics.
func (s *Store) PoolStats() store.PoolStats {
	r := s.r.Stats()
	out := store.PoolStats{Max: r.MaxOpenConnections, Open: r.OpenConnections, InUse: r.InUse, Waited: r.WaitCount}
	if s.w != s.r {
		w := s.w.Stats()
		out.Max += w.MaxOpenConnections
		out.Open += w.OpenConnections
		out.InUse += w.InUse
		out.Waited += w.WaitCount
	}
	return out
}
