package postgres

import "github.com/gatehouse-auth/gatehouse/pkg/store"

var _ store.PoolStater = (*Store)(nil)

// PoolStats reports the pgx pool, for metrics.
func (s *Store) PoolStats() store.PoolStats {
	st := s.pool.Stat()
	return store.PoolStats{Max: int(st.MaxConns()), Open: int(st.TotalConns()),
		InUse: int(st.AcquiredConns()), Waited: st.EmptyAcquireCount()}
}
