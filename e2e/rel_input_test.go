package e2e

import (
	"strings"
	"testing"
)

// Strict framing: a NUL in the path (nginx refuses it too), a version that does not exist,
// whitespace ending a chunk-size line. Before, all three reached the app.
func TestRelStrictRequests(t *testing.T) {
	t.Parallel()
	s := Start(t, "--pypy-wsgi-file", testdata("rel_app.py"))
	for _, tc := range []struct{ name, req, want string }{
		{"%00 in the path", "GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 400 "},
		{"HTTP/1.2", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", "HTTP/1.1 505 "},
		{"a chunk size with a trailing space", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n", "HTTP/1.1 400 "},
		{"%00 in the query is the app's", "GET /q?a=%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 200 "},
	} {
		if got := s.Raw(tc.req); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, wsgiShort(got), tc.want)
		}
	}
}

