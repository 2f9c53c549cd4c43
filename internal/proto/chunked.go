package proto

import (
	"bufio"
	"io"
)

const (
	// maxChunkLine bounds a chunk-size line with its extensions; nothing
	// legitimate comes close, and extensions are otherwise unbounded.
	maxChunkLine = 4096
	// maxChunkSize leaves headroom below int64 for the server's arithmetic
	// on body lengths; no real chunk is anywhere near it.
	maxChunkSize = 1 << 62
	maxChunkHex  = 16
)

var (
	errChunkSize        = &Error{400, "malformed chunk size"}
	errChunkTooLarge    = &Error{400, "chunk size too large"}
	errChunkExt         = &Error{400, "malformed chunk extension"}
	errChunkLineTooLong = &Error{400, "chunk size line too long"}
	errChunkDataEnd     = &Error{400, "chunk data not followed by CRLF"}
	errChunkBareLF      = &Error{400, "bare LF in chunked framing"}
	errTrailer          = &Error{400, "malformed trailer section"}
	errTrailerTooLarge  = &Error{400, "trailer section too large"}
)

const (
	chunkSizeLine uint8 = iota
	chunkData
	chunkDataEnd
)

// ChunkedReader decodes a chunked request body (RFC 9112 §7.1). It is
// exported so the server can keep one per connection and Reset it instead
// of allocating a reader per chunked request.
//
// Framing is strict: every chunk-size line, data terminator and trailer
// line must end in CRLF. Disagreement between a front proxy and the origin
// on where a chunked body ends is the classic request-smuggling vector, and
// a bare LF is exactly where implementations disagree, so unlike the
// request head it is refused here. Framing errors are *Error with status
// 400; input that ends early yields io.ErrUnexpectedEOF. Errors are sticky.
//
// It never reads past the end of the body, so a pipelined request that
// follows stays in the bufio.Reader.
type ChunkedReader struct {
	r      *bufio.Reader
	limit  int   // trailer section budget, in bytes
	left   int64 // data bytes left in the current chunk
	budget int   // bytes the current line may still take
	state  uint8
	err    error
}

// Reset makes c decode the chunked body at the start of r. Trailer fields are parsed
// like header fields, bounded by lim.MaxHeadBytes, and discarded: PEP 3333 has no place
// for them. A server keeps one ChunkedReader per connection and resets it per body.
func (c *ChunkedReader) Reset(r *bufio.Reader, lim Limits) {
	*c = ChunkedReader{r: r, limit: lim.headLimit()}
}

// Read returns decoded body bytes, at most one chunk's worth per call: a
// Read never waits for the next chunk once it has data to return.
func (c *ChunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		switch c.state {
		case chunkSizeLine:
			if err := c.readSizeLine(); err != nil {
				return 0, c.fail(err)
			}
			if c.left == 0 {
				if err := c.readTrailers(); err != nil {
					return 0, c.fail(err)
				}
				return 0, c.fail(io.EOF)
			}
			c.state = chunkData
		case chunkData:
			if int64(len(p)) > c.left {
				p = p[:c.left]
			}
			n, err := c.r.Read(p)
			c.left -= int64(n)
			if c.left == 0 {
				c.state = chunkDataEnd
			}
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return n, c.fail(err)
			}
			return n, nil
		case chunkDataEnd:
			c.budget = 2
			b, err := c.next()
			if err == nil && b != '\r' {
				err = errChunkDataEnd
				if b == '\n' {
					err = errChunkBareLF
				}
			}
			if err == nil {
				if b, err = c.next(); err == nil && b != '\n' {
					err = errChunkDataEnd
				}
			}
			if err != nil {
				return 0, c.fail(err)
			}
			c.state = chunkSizeLine
		}
	}
}

func (c *ChunkedReader) fail(err error) error {
	c.err = err
	return err
}

// next reads one framing byte, charging it to the current line's budget.
func (c *ChunkedReader) next() (byte, error) {
	if c.budget <= 0 {
		return 0, errChunkLineTooLong
	}
	c.budget--
	b, err := c.r.ReadByte()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return b, err
}

// readSizeLine parses chunk-size [ chunk-ext ] CRLF. Extensions are
// checked only for forbidden bytes: none has a meaning here, and their
// grammar cannot affect framing once CR and LF are excluded.
func (c *ChunkedReader) readSizeLine() error {
	c.budget = maxChunkLine
	var size uint64
	digits := 0
	b, err := c.next()
	for ; err == nil; b, err = c.next() {
		d, ok := hexValue(b)
		if !ok {
			break
		}
		if digits == maxChunkHex {
			return errChunkTooLarge
		}
		size = size<<4 | uint64(d)
		digits++
	}
	if err != nil {
		return err
	}
	if digits == 0 {
		return errChunkSize
	}
	if size > maxChunkSize {
		return errChunkTooLarge
	}
	// BWS before ';' is in the grammar; whitespace before CRLF is not, and
	// is refused: parsers that disagree on a chunk line are how requests are
	// smuggled past a proxy.
	ws := b == ' ' || b == '\t'
	for b == ' ' || b == '\t' {
		if b, err = c.next(); err != nil {
			return err
		}
	}
	if ws && b != ';' {
		return errChunkSize
	}
	if b == ';' {
		for {
			if b, err = c.next(); err != nil {
				return err
			}
			if b == '\r' {
				break
			}
			if b == '\n' {
				return errChunkBareLF
			}
			if !valueChars[b] {
				return errChunkExt
			}
		}
	}
	switch b {
	case '\r':
	case '\n':
		return errChunkBareLF
	default:
		return errChunkSize
	}
	if b, err = c.next(); err != nil {
		return err
	}
	if b != '\n' {
		return errChunkSize
	}
	c.left = int64(size)
	return nil
}

// readTrailers consumes the trailer section and its final CRLF, checking
// each line as a header field line (RFC 9112 §7.1.2) without keeping it.
func (c *ChunkedReader) readTrailers() error {
	c.budget = c.limit
	for {
		b, err := c.next()
		if err != nil {
			return trailerErr(err)
		}
		switch b {
		case '\r':
			if b, err = c.next(); err != nil {
				return trailerErr(err)
			}
			if b != '\n' {
				return errTrailer
			}
			return nil
		case '\n':
			return errChunkBareLF
		}
		name := 0
		for ; b != ':'; name++ {
			if !tokenChars[b] {
				// Whitespace in or before the name included: obs-fold and
				// "Name :" are refused as in the head.
				return errTrailer
			}
			if b, err = c.next(); err != nil {
				return trailerErr(err)
			}
		}
		if name == 0 {
			return errTrailer
		}
		for {
			if b, err = c.next(); err != nil {
				return trailerErr(err)
			}
			if b == '\r' {
				break
			}
			if b == '\n' {
				return errChunkBareLF
			}
			if !valueChars[b] {
				return errTrailer
			}
		}
		if b, err = c.next(); err != nil {
			return trailerErr(err)
		}
		if b != '\n' {
			return errTrailer
		}
	}
}

func trailerErr(err error) error {
	if err == errChunkLineTooLong {
		return errTrailerTooLarge
	}
	return err
}

func hexValue(c byte) (byte, bool) {
	if !isHex(c) {
		return 0, false
	}
	return unhex(c), true
}
