/* The C side of uwsgo's PyPy boundary: what crosses between Go and Python.
 *
 * Go hands the setup module one struct uwsgo_api (by address, as pypy_execute_source_ptr's
 * c_argument). Go fills the first group of pointers (Python calls them), the setup module
 * fills the second group with cffi callbacks (Go calls them through the trampolines below).
 * Go hands the struct's text below to the setup module (UWSGO_API_CDEF, see contract.go),
 * which declares it to cffi as it is: keep it to what cffi's cdef parses (no macros). A
 * request is named by its handle, a number the Go side gives in handle and rpc and checks
 * when it comes back in send, sendfile and rpc_reply. */
#ifndef UWSGO_BOUNDARY_H
#define UWSGO_BOUNDARY_H

#include <stdint.h>

struct uwsgo_api {
	/* Python -> Go: filled in by Go before the setup module runs. */
	long (*send)(long handle, const char *head, long headlen, const char *body, long bodylen, int final);
	long (*sendfile)(long handle, const char *head, long headlen, int fd, int64_t offset, int64_t length);
	void (*log)(const char *msg, long len);
	void (*report)(int what, const char *text, long len);
	long (*signal)(int signum, int disposition);
	long (*rpc_reply)(long handle, const char *result, long len);
	long (*rpc_call)(const char *node, long nodelen, const char *items, long itemslen, char **result, long *resultlen);
	void (*free)(void *p);
	long (*call)(int op, const char *args, long argslen, char **result, long *resultlen);
	/* Go -> Python: filled in by the setup module. */
	long (*handle)(long handle, const char *vars, long varslen, const char *body, long bodylen, int bodyfd);
	/* 0, or a failure: the traceback's length, its first errcap bytes written in err. */
	long (*step)(int what, const char *arg, long arglen, char *err, long errcap);
	long (*deliver_signal)(int signum);
	long (*rpc)(long handle, const char *items, long len);
	long (*uwsgi_signal)(int num);
	/* ASGI (asgi.py), kept together and last: Python -> Go (filled by Go), then Go ->
	 * Python (filled by asgi.py when an ASGI app is loaded). */
	long (*asgi_event)(int what, long handle, long arg, const char *data, long len);
	long (*asgi)(int op, long handle, const char *a, long alen, const char *b, long blen, int flags, int64_t *next);
};

/* The one table; the pre-fork loader (zygote.c) swaps the Go side for stand-ins. */
struct uwsgo_api *uwsgo_api_table(void);

/* Loading. Each returns 0 on success, else a negative code and a message in errbuf. */
int uwsgo_cpython_present(void);
int uwsgo_pypy_present(void);
int uwsgo_load(const char *lib, char *errbuf, int errlen);
const char *uwsgo_loaded_path(void);

/* The embedding API, called once, in this order, on the process's main thread. */
void uwsgo_startup(void);
int uwsgo_setup_home(const char *home);
int uwsgo_execute_setup(const char *source);
void uwsgo_init_threads(void);

/* Calls into Python: every one attaches the calling OS thread to PyPy on first use. */
long uwsgo_handle(long handle, const char *vars, long varslen, const char *body, long bodylen, int bodyfd);
long uwsgo_step(int what, const char *arg, long arglen, char *err, long errcap);
long uwsgo_deliver_signal(int signum);
long uwsgo_rpc(long handle, const char *items, long len);
long uwsgo_uwsgi_signal(int num);
long uwsgo_asgi(int op, long handle, const char *a, long alen, const char *b, long blen, int flags, int64_t *next);
int uwsgo_hooks_installed(void);
int uwsgo_attached_threads(void);

/* Go owns signals: remember Go's handlers before Python runs, put back any Python changed. */
void uwsgo_save_signals(void);
void uwsgo_save_signal(int sig);
int uwsgo_restore_signals(void);

#endif
