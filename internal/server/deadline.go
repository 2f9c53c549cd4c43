package server

import (
	"io"
	"net"
	"os"
	"time"
)

// The socket timeout bounds a stall, not a transfer: a large upload or download may take as
// long as it needs while bytes keep moving. So deadlines are renewed for every read of a
// body and for every chunk of a write, never set once for a whole body or response. (A
// request head, which is small, does get one deadline: a client trickling it is an attack.)

// writeChunk is how much one write may carry under one deadline.
const writeChunk = 256 << 10

// connReader is what a connection's bufio.Reader reads from. With perRead set (while a body
// is read) every read gets a fresh deadline.
type connReader struct {
	nc      net.Conn
	timeout time.Duration
	perRead bool
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.perRead {
		r.nc.SetReadDeadline(time.Now().Add(r.timeout))
	}
	return r.nc.Read(p)
}

// writeAll writes b, renewing the write deadline for every chunk.
func writeAll(nc net.Conn, b []byte, timeout time.Duration) error {
	for len(b) > 0 {
		n := min(len(b), writeChunk)
		nc.SetWriteDeadline(time.Now().Add(timeout))
		if _, err := nc.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// copyFile sends n bytes of f from its current offset, renewing the deadline for every few
// MiB; each piece still goes out with sendfile(2) on TCP.
func copyFile(nc net.Conn, f *os.File, n int64, timeout time.Duration) error {
	for n > 0 {
		nc.SetWriteDeadline(time.Now().Add(timeout))
		m, err := io.CopyN(nc, f, min(n, 16*writeChunk))
		n -= m
		if err != nil {
			return err
		}
	}
	return nil
}
