//go:build !regtest

package shard

// Without the regtest build tag every test hook is an empty function that the
// compiler inlines away; see regtest_on.go for what they do under the tag.

func yield()                               {}
func lockOrderAcquire(*Set, int)           {}
func lockOrderRelease(*Set, int)           {}
func (*Set) staleRead(Route, string) stale { return stale{} }

type stale struct{}

func (stale) or(ks *KeyState) *KeyState                    { return ks }
func (*Set) tornSnapshot([]Route) (map[string]*View, bool) { return nil, false }
