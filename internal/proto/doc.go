// Package proto turns bytes from the wire into uWSGI vars blocks, the one
// representation the rest of uwsgo (and the embedded Python side) consumes.
//
// Design:
//
//   - Both front ends of the server meet in the same encoding: the uwsgi
//     protocol already carries a vars block, and the HTTP front end
//     (ReadRequest + AppendVars) builds one. The Python side decodes every
//     key and value as latin-1, so values are passed as raw bytes and never
//     re-encoded here.
//
//   - The package sits on the per-request hot path, so parsing does no
//     allocation in the steady state: a Request owns one head buffer sized
//     to the head limit up front (so appends never move it and every slice
//     handed out stays valid), header slices point into it, the Headers
//     slice is reused, and errors are preallocated values. There are no
//     maps: the few headers with meaning are recognised by length and a
//     case-insensitive compare, and duplicates are grouped by a per-header
//     folded-name hash with a bounded quadratic scan (bounded by
//     maxHeaderFields, so a crafted head cannot make it expensive).
//
//   - The parser is strict wherever a lenient reading could make two
//     HTTP implementations disagree about where a message ends (request
//     smuggling): Content-Length syntax, Content-Length with
//     Transfer-Encoding, codings other than "chunked", bare CR, and CRLF
//     inside chunked framing. It is lenient only where RFC 9112 invites it
//     and framing cannot be affected: bare LF as a head line terminator,
//     a few empty lines before the request line, obs-text in targets and
//     field values.
//
//   - A vars value cannot exceed 65535 bytes. Rather than checking every
//     value on the hot path, the HTTP side guarantees it: Limits clamps the
//     head to at most 65535 bytes, and every value AppendVars emits
//     (including joined repeated headers and the decoded path) is no longer
//     than the head bytes it came from. AppendVar and AppendVarBytes panic
//     if the contract is broken by a caller; AppendVarChecked is the
//     error-returning variant for data without such a guarantee.
package proto
