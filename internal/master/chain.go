package master

// chainReload replaces the workers one at a time, each only once its replacement serves:
// uWSGI's chain reload (--touch-chain-reload, the master FIFO's c). Fewer processes run at
// once than in a reload, and a replacement that cannot start stops the chain where it is.
func (m *Master) chainReload(why string) {
	if m.exiting != "" {
		return
	}
	m.log.Printf("master: %s: chain reload: replacing the workers one at a time", why)
	m.reloadStarts()
	if m.preforks() {
		m.startLoader(replaceChain, 0) // the chain starts once it has loaded the new code
		return
	}
	m.startChain()
}

func (m *Master) startChain() {
	m.chain = m.chain[:0]
	for id := 1; id <= m.n; id++ {
		m.chain = append(m.chain, id)
	}
	m.chainNext()
}

// chainNext replaces the next worker of the chain that runs; onReady calls it again when
// that replacement is ready.
func (m *Master) chainNext() {
	for len(m.chain) > 0 {
		if p := m.current(m.chain[0]); p != nil {
			m.spawn(p.id, p)
			return
		}
		m.chain = m.chain[1:]
	}
}
