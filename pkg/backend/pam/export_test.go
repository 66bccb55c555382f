//go:build pam

package pam

// InFlight reports how many PAM transactions hold a slot.
func (b *Backend) InFlight() int { return b.slots.InUse() }

// SetGeteuid replaces os.Geteuid for check_for_root until the returned
// function is called.
func SetGeteuid(f func() int) (restore func()) {
	old := geteuid
	geteuid = f
	return func() { geteuid = old }
}
