package server

// App is where the server runs requests: in uwsgo, internal/pypy's Handle and RPC. Both
// are called on the request's goroutine holding a slot, and answer through the Server's
// Send, SendFile and RPCReply with the handle they were given, before they return.
//
// Two functions rather than an interface: the worker hands pypy's package functions over
// as they are, and a test writes its app as closures.
type App struct {
	// Handle runs a request (vars: its uwsgi vars block; the body in memory, or in the
	// file bodyFD when it is not -1) and returns one of pypy.Handled ... pypy.NoApp.
	Handle func(handle int, vars, body []byte, bodyFD int) int
	// RPC runs the uwsgi RPC call items names, and returns one of pypy.RPCDone ...
	RPC func(handle int, items []byte) int
}
