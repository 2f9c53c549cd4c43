package master

import (
	"uwsgo/internal/child"
)

// drain asks worker p to stop as part of stopping the whole instance: unlike a SIGTERM
// (which a reload also sends), the message tells it to turn --health-path to 503 and to
// go on serving for --shutdown-delay before it stops accepting. Its kill deadline moves
// by that delay. False when the message could not be sent: the caller signals instead.
func (m *Master) drain(p *proc) bool {
	if err := p.ctl.Send(child.Message{Kind: child.Drain}); err != nil {
		return false
	}
	p.killAt = p.killAt.Add(m.cfg.Processes.ShutdownDelay)
	return true
}
