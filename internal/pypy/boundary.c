#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boundary.h"
#include "_cgo_export.h"

static struct uwsgo_api api;

struct uwsgo_api *uwsgo_api_table(void) { return &api; }

static void (*pypy_startup)(void);
static int (*pypy_home)(char *, int);
static int (*pypy_execute)(char *, void *);
static void (*pypy_threads)(void);
static void (*pypy_attach)(void);
static const char *missing;

/* libpython exports Py_Initialize; libpypy-c does not (its C-API names are PyPy-prefixed),
 * so finding it means CPython is already in this process. */
int uwsgo_cpython_present(void) { return dlsym(RTLD_DEFAULT, "Py_Initialize") != NULL; }

/* True in library mode: the process is a running pypy that loaded us. */
int uwsgo_pypy_present(void) { return dlsym(RTLD_DEFAULT, "rpython_startup_code") != NULL; }


/* The file the dynamic linker actually opened, for the start-up log. */
const char *uwsgo_loaded_path(void) {
	Dl_info info;
	if (pypy_startup && dladdr((void *)pypy_startup, &info) && info.dli_fname) return info.dli_fname;
	return "";
}

static void *need(void *handle, const char *name) {
	void *p = dlsym(handle, name);
	if (!p && !missing) missing = name;
	return p;
}

int uwsgo_load(const char *lib, char *errbuf, int errlen) {
	void *h = RTLD_DEFAULT;
	if (lib) {
		/* RTLD_GLOBAL: PyPy's own extension modules (cffi backends) resolve against it. */
		h = dlopen(lib, RTLD_NOW | RTLD_GLOBAL);
		if (!h) {
			snprintf(errbuf, errlen, "%s", dlerror());
			return -1;
		}
	}
	missing = NULL;
	pypy_startup = need(h, "rpython_startup_code");
	pypy_home = need(h, "pypy_setup_home");
	pypy_execute = need(h, "pypy_execute_source_ptr");
	pypy_threads = need(h, "pypy_init_threads");
	pypy_attach = need(h, "pypy_thread_attach");
	if (missing) {
		snprintf(errbuf, errlen, "symbol %s not found", missing);
		return -2;
	}
	api.send = (long (*)(long, const char *, long, const char *, long, int))uwsgoSend;
	api.sendfile = (long (*)(long, const char *, long, int, int64_t, int64_t))uwsgoSendfile;
	api.log = (void (*)(const char *, long))uwsgoLog;
	api.report = (void (*)(int, const char *, long))uwsgoReport;
	api.signal = (long (*)(int, int))uwsgoSignal;
	api.rpc_reply = (long (*)(long, const char *, long))uwsgoRPCReply;
	api.rpc_call = (long (*)(const char *, long, const char *, long, char **, long *))uwsgoRPCCall;
	api.free = free;
	api.call = (long (*)(int, const char *, long, char **, long *))uwsgoCall;
	api.asgi_event = (long (*)(int, long, long, const char *, long))uwsgoASGIEvent;
	return 0;
}

/* PyPy needs every OS thread that runs Python to be attached once. Go moves goroutines
 * between OS threads freely, so the rule is kept here, per thread, on first use: nothing
 * fails loudly when it is broken (PyPy registers a "Dummy" thread instead). */
static __thread int attached;
static int attached_threads;

static inline void attach(void) {
	if (!attached) {
		pypy_attach();
		attached = 1;
		__atomic_add_fetch(&attached_threads, 1, __ATOMIC_RELAXED);
	}
}

void uwsgo_startup(void) { pypy_startup(); }
int uwsgo_setup_home(const char *home) { return pypy_home((char *)home, 0); }

int uwsgo_execute_setup(const char *source) {
	/* The thread that starts PyPy is PyPy's main thread: it never needs attaching. */
	attached = 1;
	__atomic_add_fetch(&attached_threads, 1, __ATOMIC_RELAXED);
	return pypy_execute((char *)source, &api);
}

void uwsgo_init_threads(void) { pypy_threads(); }

int uwsgo_hooks_installed(void) {
	return api.handle != NULL && api.step != NULL && api.deliver_signal != NULL && api.rpc != NULL &&
	       api.uwsgi_signal != NULL;
}
int uwsgo_attached_threads(void) { return __atomic_load_n(&attached_threads, __ATOMIC_RELAXED); }

long uwsgo_handle(long handle, const char *vars, long varslen, const char *body, long bodylen, int bodyfd) {
	attach();
	return api.handle(handle, vars, varslen, body, bodylen, bodyfd);
}

long uwsgo_step(int what, const char *arg, long arglen, char *err, long errcap) {
	attach();
	return api.step(what, arg, arglen, err, errcap);
}

long uwsgo_deliver_signal(int signum) {
	attach();
	return api.deliver_signal(signum);
}

long uwsgo_rpc(long handle, const char *items, long len) {
	attach();
	return api.rpc(handle, items, len);
}

long uwsgo_uwsgi_signal(int num) {
	attach();
	return api.uwsgi_signal(num);
}

/* -100: asgi.py never ran (no ASGI app is loaded). */
long uwsgo_asgi(int op, long handle, const char *a, long alen, const char *b, long blen, int flags, int64_t *next) {
	if (api.asgi == NULL) return -100;
	attach();
	return api.asgi(op, handle, a, alen, b, blen, flags, next);
}

static struct sigaction go_handlers[NSIG];

void uwsgo_save_signals(void) {
	for (int s = 1; s < NSIG; s++) sigaction(s, NULL, &go_handlers[s]);
}

/* Go changed sig's handling itself, at the app's request: that is now the one to keep. */
void uwsgo_save_signal(int sig) {
	if (sig > 0 && sig < NSIG) sigaction(sig, NULL, &go_handlers[sig]);
}

/* Python's signal.signal() installs libpypy's handler without SA_ONSTACK and takes the
 * signal away from Go's signal.Notify; put Go's back. Returns how many were changed. */
int uwsgo_restore_signals(void) {
	int changed = 0;
	for (int s = 1; s < NSIG; s++) {
		if (s == SIGKILL || s == SIGSTOP) continue;
		struct sigaction now;
		if (sigaction(s, NULL, &now) != 0) continue;
		if (now.sa_handler != go_handlers[s].sa_handler || now.sa_flags != go_handlers[s].sa_flags) {
			sigaction(s, &go_handlers[s], NULL);
			changed++;
		}
	}
	return changed;
}
