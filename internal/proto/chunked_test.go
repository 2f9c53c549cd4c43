package proto

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// decodeChunked decodes in, returning the body, what was left in the reader
// afterwards, and the error.
func decodeChunked(in string, lim Limits, oneByte bool) (string, string, error) {
	var src io.Reader = strings.NewReader(in)
	size := 4096
	if oneByte {
		src = iotest.OneByteReader(src)
		size = 16
	}
	r := bufio.NewReaderSize(src, size)
	cr := newChunkedReader(r, lim)
	var body []byte
	var err error
	if oneByte {
		body, err = io.ReadAll(iotest.OneByteReader(cr))
	} else {
		body, err = io.ReadAll(cr)
	}
	rest, _ := io.ReadAll(r)
	return string(body), string(rest), err
}

func TestChunkedValid(t *testing.T) {
	const next = "GET / HTTP/1.1\r\n"
	cases := []struct{ name, in, want string }{
		{"empty body", "0\r\n\r\n", ""},
		{"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"},
		{"upper-case hex", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789"},
		{"lower-case hex", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789"},
		{"leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"},
		{"binary data", "4\r\n\r\n\x00\n\r\n0\r\n\r\n", "\r\n\x00\n"},
		{"extensions", "5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello"},
		{"extension with BWS and quotes", "5 ; a = \"b c\" ; d\r\nhello\r\n0\r\n\r\n", "hello"},
		{"extension obs-text", "5;x=\xe9\r\nhello\r\n0\r\n\r\n", "hello"},
		{"trailers", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nOther:\r\n\r\n", "hello"},
		{"trailer with tab", "1\r\nx\r\n0\r\nA:\tb c\r\n\r\n", "x"},
		{"large chunk", "1000\r\n" + strings.Repeat("z", 4096) + "\r\n0\r\n\r\n", strings.Repeat("z", 4096)},
	}
	for _, c := range cases {
		for _, oneByte := range []bool{false, true} {
			body, rest, err := decodeChunked(c.in+next, Limits{}, oneByte)
			if err != nil || body != c.want || rest != next {
				t.Errorf("%s (oneByte=%v): body %q err %v rest %q", c.name, oneByte, body, err, rest)
			}
		}
	}
}

func TestChunkedErrors(t *testing.T) {
	cases := []struct{ name, in string }{
		{"bare LF after size", "5\nhello\r\n0\r\n\r\n"},
		{"bare LF after data", "5\r\nhello\n0\r\n\r\n"},
		{"bare LF after last chunk", "0\n\r\n"},
		{"bare LF ending body", "0\r\n\n"},
		{"bare LF lone", "5\r\nhello\r\n0\n\n"},
		{"bare LF in extension line", "5;a\nhello\r\n0\r\n\r\n"},
		{"bare LF ending trailer", "0\r\nX: a\n\r\n"},
		{"bare LF in trailer value", "0\r\nX: a\nb\r\n\r\n"},
		{"CR not followed by LF", "5\r\rhello\r\n0\r\n\r\n"},
		{"final CR not followed by LF", "0\r\n\rx"},
		{"data too long", "5\r\nhelloX\r\n0\r\n\r\n"},
		{"data CR then junk", "5\r\nhello\rX0\r\n\r\n"},
		{"no digits", "\r\nhello\r\n"},
		{"negative", "-1\r\n"},
		{"0x prefix", "0x5\r\nhello\r\n0\r\n\r\n"},
		{"plus sign", "+5\r\nhello\r\n0\r\n\r\n"},
		{"leading space", " 5\r\nhello\r\n0\r\n\r\n"},
		{"junk after size", "5 x\r\nhello\r\n0\r\n\r\n"},
		{"whitespace before CRLF", "5 \t\r\nhello\r\n0\r\n\r\n"},
		{"space before CRLF of the last chunk", "5\r\nhello\r\n0 \r\n\r\n"},
		{"17 hex digits", "00000000000000005\r\nhello\r\n0\r\n\r\n"},
		{"overflow uint64", "10000000000000000\r\n"},
		{"over 2^62", "4000000000000001\r\n"},
		{"control in extension", "5;a\x01\r\nhello\r\n0\r\n\r\n"},
		{"NUL in extension", "5;\x00\r\nhello\r\n0\r\n\r\n"},
		{"DEL in extension", "5;\x7f\r\nhello\r\n0\r\n\r\n"},
		{"extension line too long", "5;" + strings.Repeat("a", maxChunkLine) + "\r\nhello\r\n0\r\n\r\n"},
		{"whitespace line too long", "5" + strings.Repeat(" ", maxChunkLine) + "\r\nhello\r\n0\r\n\r\n"},
		{"trailer without colon", "0\r\nX\r\n\r\n"},
		{"trailer empty name", "0\r\n: a\r\n\r\n"},
		{"trailer obs-fold", "0\r\nX: a\r\n b\r\n\r\n"},
		{"trailer leading space", "0\r\n X: a\r\n\r\n"},
		{"trailer space before colon", "0\r\nX : a\r\n\r\n"},
		{"trailer NUL", "0\r\nX: a\x00\r\n\r\n"},
		{"trailer control", "0\r\nX: \x1b\r\n\r\n"},
		{"trailer too large", "0\r\nX: " + strings.Repeat("a", 1100) + "\r\n\r\n"},
		{"many trailers too large", "0\r\n" + strings.Repeat("X: aaaaaaaaaaaaa\r\n", 70) + "\r\n"},
	}
	for _, c := range cases {
		for _, oneByte := range []bool{false, true} {
			_, _, err := decodeChunked(c.in, Limits{MaxHeadBytes: 1024}, oneByte)
			if statusOf(err) != 400 {
				t.Errorf("%s (oneByte=%v): err %v, want *Error 400", c.name, oneByte, err)
			}
		}
	}
	// 2^62 itself is allowed: it fails only because the data never comes.
	if _, _, err := decodeChunked("4000000000000000\r\nabc", Limits{}, false); err != io.ErrUnexpectedEOF {
		t.Errorf("2^62 chunk: %v, want io.ErrUnexpectedEOF", err)
	}
	// Trailers exactly at the limit are fine.
	trailer := "X: " + strings.Repeat("a", 1024-len("X: \r\n\r\n")) + "\r\n\r\n"
	if _, _, err := decodeChunked("0\r\n"+trailer, Limits{MaxHeadBytes: 1024}, false); err != nil {
		t.Errorf("trailers at the limit: %v", err)
	}
}

func TestChunkedTruncated(t *testing.T) {
	for _, in := range []string{
		"", "5", "5\r", "5\r\n", "5\r\nhel", "5\r\nhello", "5\r\nhello\r", "5\r\nhello\r\n",
		"5;ext", "0", "0\r\n", "0\r\n\r", "0\r\nX: a", "0\r\nX: a\r\n", "0\r\nX",
	} {
		for _, oneByte := range []bool{false, true} {
			_, _, err := decodeChunked(in, Limits{}, oneByte)
			if err != io.ErrUnexpectedEOF {
				t.Errorf("%q (oneByte=%v): %v, want io.ErrUnexpectedEOF", in, oneByte, err)
			}
		}
	}
}

func TestChunkedStickyAndReuse(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("5\nhello\r\n0\r\n\r\n"))
	var cr ChunkedReader
	cr.Reset(r, Limits{})
	buf := make([]byte, 16)
	_, err1 := cr.Read(buf)
	_, err2 := cr.Read(buf)
	if statusOf(err1) != 400 || err2 != err1 {
		t.Fatalf("errors %v then %v", err1, err2)
	}

	cr.Reset(bufio.NewReader(strings.NewReader("3\r\nabc\r\n0\r\n\r\n")), Limits{})
	if n, err := cr.Read(buf[:0]); n != 0 || err != nil {
		t.Fatalf("empty read: %d %v", n, err)
	}
	n, err := cr.Read(buf)
	if err != nil || string(buf[:n]) != "abc" {
		t.Fatalf("after Reset: %q %v", buf[:n], err)
	}
	for i := 0; i < 2; i++ {
		if n, err := cr.Read(buf); n != 0 || err != io.EOF {
			t.Fatalf("end: %d %v", n, err)
		}
	}

	boom := errors.New("boom")
	cr.Reset(bufio.NewReader(io.MultiReader(strings.NewReader("5\r\nhe"), iotest.ErrReader(boom))), Limits{})
	body, err := io.ReadAll(&cr)
	if err != boom || string(body) != "he" {
		t.Fatalf("read error: %q %v", body, err)
	}
}

// newChunkedReader is a fresh reader for the chunked body at the start of r.
func newChunkedReader(r *bufio.Reader, lim Limits) io.Reader {
	c := new(ChunkedReader)
	c.Reset(r, lim)
	return c
}
