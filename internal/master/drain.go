package master

import (
	"encoding/json"

	"uwsgo/internal/worker"
)

// drain asks worker p to stop as part of stopping the whole instance: unlike a SIGTERM
// (which a reload also sends), the message tells it to turn --health-path to 503 and to
// go on serving for --shutdown-delay before it stops accepting. Its kill deadline moves
// by that delay. False when the message could not be sent: the caller signals instead.
func (m *Master) drain(p *proc) bool {
	b, _ := json.Marshal(worker.ControlMessage{Type: "drain"})
	if _, err := p.ctl.Write(append(b, '\n')); err != nil {
		return false
	}
	p.killAt = p.killAt.Add(m.cfg.Processes.ShutdownDelay)
	return true
}
