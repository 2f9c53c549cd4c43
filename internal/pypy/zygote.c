/* The pre-fork loader (see zygote.go for the design and its limits).
 *
 * A constructor runs before the Go runtime starts. In a process the master started as its
 * loader (UWSGO_LOADER in the environment) it never returns there: it loads PyPy and the
 * app step by step as the master asks over the control socket, with stand-ins for the Go
 * functions Python calls (there is no Go yet), and forks workers on request. Only in a
 * forked worker does it return, and that worker's Go runtime then starts on the loaded
 * image. Everywhere else it returns at once. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "boundary.h"
#include "zygote.h"

#define LOADER_ENV "UWSGO_LOADER"
#define CTL 3 /* the loader's socket to the master; a worker's own socket takes its place */

int uwsgo_forked_id = -1, uwsgo_forked_record = -1, uwsgo_forked_once;

static struct uwsgo_api go; /* the Go side of the table, put back in a worker */
static pid_t loader_pid, master_pid;
static char *name; /* argv[0], which a worker overwrites with its own name */

/* ---------------------------------------------------------------- what Python asked for */

static char *reports[4];
static long report_lens[4];
static int signals_asked[NSIG]; /* disposition + 1; 0: not asked */

/* An operation of the uwsgi module the app called at import, carried out by the worker. */
struct deferred {
	int op, once;
	char *args;
	long len;
};
static struct deferred *deferred;
static int ndeferred, once_taken;
static unsigned char registered[256]; /* uWSGI signals registered in the loaded image */

/* What the loader does with each operation of the uwsgi module (contract.go's Ops), as the
 * master's 'T' request says: zygote.go's beforeFork. */
enum { REFUSE, EVERY_WORKER, ONCE, REGISTER_SIGNAL, ASK_REGISTERED };
static unsigned char op_class[256];
static char *op_refusal[256]; /* the error a refused operation raises */

/* REPORT_VERSION and REPORT_APP (contract.go). */
static int is_report(int what) { return what == 2 || what == 3; }

static void stub_report(int what, const char *text, long len) {
	if (!is_report(what)) return;
	free(reports[what]);
	reports[what] = malloc(len + 1);
	memcpy(reports[what], text, len);
	reports[what][len] = 0;
	report_lens[what] = len;
}

/* A line of the log as the master's Go logger writes it (log.LstdFlags), from "loader". */
static void stub_log(const char *msg, long len) {
	while (len > 0) {
		const char *nl = memchr(msg, '\n', len);
		long n = nl ? nl - msg + 1 : len;
		char head[64];
		struct tm tm;
		time_t now = time(NULL);
		localtime_r(&now, &tm);
		struct iovec line[3] = {
		    {head, strftime(head, sizeof head, "%Y/%m/%d %H:%M:%S loader: ", &tm)},
		    {(void *)msg, n},
		    {"\n", nl ? 0 : 1},
		};
		if (writev(2, line, 3) < 0 && errno != EINTR) return;
		msg += n, len -= n;
	}
}

static long stub_signal(int signum, int disposition) {
	if (signum <= 0 || signum >= NSIG) return -1;
	signals_asked[signum] = disposition + 1;
	return 0;
}

static char *copy_out(const char *text, long *len) {
	*len = strlen(text);
	return strcpy(malloc(*len + 1), text);
}

/* The first argument (a u32-LE length, then decimal digits), or -1. */
static long signal_number(const char *args, long len) {
	uint32_t n;
	char digits[16];
	if (len < 4) return -1;
	memcpy(&n, args, 4);
	if (n == 0 || n >= sizeof digits || n > len - 4) return -1;
	memcpy(digits, args + 4, n);
	digits[n] = 0;
	char *end;
	long num = strtol(digits, &end, 10);
	return *end == 0 && num >= 0 && num < 256 ? num : -1;
}

static long stub_call(int op, const char *args, long len, char **result, long *resultlen) {
	*resultlen = -1;
	int class = op > 0 && op < 256 ? op_class[op] : REFUSE;
	long num;
	switch (class) {
	case ASK_REGISTERED:
		num = signal_number(args, len);
		return num >= 0 && registered[num] ? 0 : 1;
	case REGISTER_SIGNAL:
		if ((num = signal_number(args, len)) >= 0) registered[num] = 1;
		break;
	case EVERY_WORKER:
	case ONCE:
		break;
	default:
		*result = copy_out(op > 0 && op < 256 && op_refusal[op] ? op_refusal[op] : "no such operation", resultlen);
		return -1;
	}
	deferred = realloc(deferred, (ndeferred + 1) * sizeof *deferred);
	struct deferred *d = &deferred[ndeferred++];
	d->op = op, d->once = class == ONCE, d->len = len;
	d->args = malloc(len > 0 ? len : 1);
	memcpy(d->args, args, len);
	return 0;
}

static long stub_rpc_call(const char *node, long nodelen, const char *items, long itemslen, char **result, long *resultlen) {
	static const char msg[] = "uwsgi.rpc() to another node needs a running worker: not before the fork\n";
	stub_log(msg, sizeof msg - 1);
	return -1;
}

/* Warm-up requests: the response is dropped; the first head that is not 2xx is kept. */
static int warm_bad;
static char warm_status[128];

static long stub_send(long req, const char *head, long headlen, const char *body, long bodylen, int final) {
	if (head && headlen > 0 && head[0] != '2') {
		if (!warm_bad++) {
			long n = 0;
			while (n < headlen && n < (long)sizeof warm_status - 1 && head[n] != '\r') n++;
			memcpy(warm_status, head, n);
			warm_status[n] = 0;
		}
	}
	return 0;
}

static long stub_sendfile(long req, const char *head, long headlen, int fd, int64_t offset, int64_t length) {
	return stub_send(req, head, headlen, NULL, 0, 1);
}

static long stub_rpc_reply(long req, const char *result, long len) { return 0; }

/* An ASGI app loaded: its loop's descriptor is no worker's (each renews the loop after the
 * fork and announces its own, pypy.Adopt); what is kept is that there is a loop. */
static int asgi_loop;

static long stub_asgi_event(int what, long handle, long arg, const char *data, long len) {
	if (what != 1 /* ASGI_EVENT_LOOP */) return -1;
	asgi_loop = 1;
	return 0;
}

static void stand_in(struct uwsgo_api *api) {
	go = *api;
	api->send = stub_send;
	api->sendfile = stub_sendfile;
	api->log = stub_log;
	api->report = stub_report;
	api->signal = stub_signal;
	api->rpc_reply = stub_rpc_reply;
	api->rpc_call = stub_rpc_call;
	api->call = stub_call;
	api->asgi_event = stub_asgi_event;
}

/* In a worker, with Go running: Python calls Go from now on. */
void uwsgo_loader_adopt(void) {
	struct uwsgo_api *api = uwsgo_api_table();
	api->send = go.send;
	api->sendfile = go.sendfile;
	api->log = go.log;
	api->report = go.report;
	api->signal = go.signal;
	api->rpc_reply = go.rpc_reply;
	api->rpc_call = go.rpc_call;
	api->call = go.call;
	api->asgi_event = go.asgi_event;
}

const char *uwsgo_loader_report(int what, long *len) {
	*len = is_report(what) ? report_lens[what] : 0;
	return is_report(what) ? reports[what] : NULL;
}

int uwsgo_loader_asgi(void) { return asgi_loop; }

int uwsgo_loader_signal(int sig) { return sig > 0 && sig < NSIG ? signals_asked[sig] - 1 : -1; }

int uwsgo_loader_deferred(int i, int *op, const char **args, long *len) {
	for (; i < ndeferred; i++) {
		if (deferred[i].once && !uwsgo_forked_once) continue;
		*op = deferred[i].op, *args = deferred[i].args, *len = deferred[i].len;
		return i + 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- the conversation */

static int full(ssize_t (*io)(int, void *, size_t), int fd, void *buf, size_t n) {
	char *p = buf;
	while (n > 0) {
		ssize_t r = io(fd, p, n);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return -1;
		p += r, n -= r;
	}
	return 0;
}

static ssize_t writer(int fd, void *buf, size_t n) { return write(fd, buf, n); }

static void reply(int32_t status, const char *data, long len) {
	uint32_t n = len;
	if (full(writer, CTL, &status, 4) || full(writer, CTL, &n, 4) || (n && full(writer, CTL, (void *)data, n))) _exit(1);
}

static void reply_text(int32_t status, const char *text) { reply(status, text, text ? strlen(text) : 0); }

/* One request: a command byte, a payload, and for a fork the worker's control socket. */
static char *receive(char *cmd, uint32_t *len, int *fd) {
	char head[5];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = {head, sizeof head};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
	*fd = -1;
	ssize_t r;
	do r = recvmsg(CTL, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r <= 0) _exit(0); /* the master is gone or let this image go */
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (r < (ssize_t)sizeof head && full(read, CTL, head + r, sizeof head - r)) _exit(0);
	*cmd = head[0];
	memcpy(len, head + 1, 4);
	char *payload = malloc(*len + 1);
	if (*len && full(read, CTL, payload, *len)) _exit(0);
	payload[*len] = 0;
	return payload;
}

#define TRACEBACK_CAP (256 << 10)
static char *traceback;

/* Runs a step; 0, or -1 and the reply already sent: the traceback. */
static int run_step(int what, const char *arg, long len) {
	if (!traceback) traceback = malloc(TRACEBACK_CAP);
	long rc = uwsgo_step(what, arg, len, traceback, TRACEBACK_CAP);
	if (rc == 0) return 0;
	if (rc > 0) reply(-1, traceback, rc < TRACEBACK_CAP ? rc : TRACEBACK_CAP);
	else reply_text(-1, "(the setup module gave no traceback)");
	return -1;
}

/* The reply to a step: the app as loaded so far, or the traceback. */
static void step(const char *p, uint32_t len) {
	int32_t what;
	memcpy(&what, p, 4);
	if (run_step(what, p + 4, len - 4) == 0) reply(0, reports[3], report_lens[3]);
}

static void warmup(const char *p, uint32_t len) {
	/* What handle's outcomes (pypy.Handled ...) mean for a request that failed. */
	static const char *failures[] = {"", "the app raised before answering", "the app raised while answering", "no app is loaded"};
	int32_t count;
	memcpy(&count, p, 4);
	warm_bad = 0, warm_status[0] = 0;
	int failed = 0;
	for (int i = 0; i < count; i++) {
		long rc = uwsgo_handle(0, p + 4, len - 4, NULL, 0, -1);
		if (rc != 0 && !failed++ && !warm_bad) snprintf(warm_status, sizeof warm_status, "%s", rc > 0 && rc < 4 ? failures[rc] : "the app failed");
	}
	reply_text(warm_bad + failed, warm_status);
}

/* Python forks, so that its at-fork hooks run and PyPy's own state is renewed in the child:
 * twice, so that the worker's parent becomes the master (a subreaper) once the middle
 * process exits. The worker returns here, the loader learns its pid from the pipe. */
static const char fork_code[] =
    "def _uwsgo_fork():\n"
    "    import os\n"
    "    middle = os.fork()\n"
    "    if middle == 0:\n"
    "        try:\n"
    "            if os.fork() == 0:\n"
    "                return\n"
    "        except BaseException:\n"
    "            os._exit(1)\n"
    "        os._exit(0)\n"
    "    os.waitpid(middle, 0)\n"
    "_uwsgo_fork()\n"
    "del _uwsgo_fork\n";

static void become_worker(int32_t id, int32_t record, int fd) {
	/* Until the middle process is gone, the parent is not yet the master. */
	struct timespec pause = {0, 20000};
	for (int i = 0; getppid() != master_pid; i++) {
		if (i > 100000) _exit(1); /* 2 s: the master is gone */
		nanosleep(&pause, NULL);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != master_pid) _exit(1);
	setpgid(0, 0);
	/* What ps shows: the master started the loader with room for this (loader.go). */
	size_t room = strlen(name);
	snprintf(name, room + 1, "uwsgo worker %d", id);
	if (dup2(fd, CTL) < 0) _exit(1);
	close(fd);
	uwsgo_forked_id = id, uwsgo_forked_record = record;
	uwsgo_forked_once = !once_taken;
}

/* Returns only in a new worker. */
static void fork_worker(const char *p, int fd) {
	int32_t id, record;
	memcpy(&id, p, 4);
	memcpy(&record, p + 4, 4);
	if (fd < 0) {
		reply_text(-1, "no control socket came with the fork request");
		return;
	}
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		reply_text(-1, strerror(errno));
		close(fd);
		return;
	}
	/* Each worker writes its pid as it starts: that is how the loader learns it. */
	int rc = run_step(2 /* STEP_EVAL */, fork_code, sizeof fork_code - 1);
	if (getpid() != loader_pid) {
		close(pipefd[0]);
		int32_t me = getpid();
		if (write(pipefd[1], &me, 4) != 4) _exit(1);
		close(pipefd[1]);
		become_worker(id, record, fd);
		return;
	}
	close(pipefd[1]);
	close(fd);
	int32_t pid = 0;
	int got = rc == 0 ? full(read, pipefd[0], &pid, 4) : -1;
	close(pipefd[0]);
	if (rc != 0) return; /* run_step replied */
	if (got != 0) {
		reply_text(-1, "the forked worker did not start");
		return;
	}
	once_taken = 1;
	reply(pid, NULL, 0);
}

/* The fields of a NUL-separated payload. */
static const char *field(const char **p) {
	const char *f = *p;
	*p += strlen(f) + 1;
	return f;
}

static void run_loader(void) {
	loader_pid = getpid(), master_pid = getppid();
	char errbuf[512];
	for (;;) {
		char cmd;
		uint32_t len;
		int fd;
		char *p = receive(&cmd, &len, &fd);
		const char *q = p;
		switch (cmd) {
		case 'L': { /* a candidate library */
			int rc = uwsgo_load(field(&q), errbuf, sizeof errbuf);
			if (rc == 0) reply_text(0, uwsgo_loaded_path());
			else reply_text(rc, errbuf);
			break;
		}
		case 'T': /* the operations' table: [op, class, refusal NUL] each */
			while (q + 2 <= p + len) {
				unsigned char op = q[0], class = q[1];
				q += 2;
				op_class[op] = class;
				free(op_refusal[op]);
				op_refusal[op] = strdup(field(&q));
			}
			reply(0, NULL, 0);
			break;
		case 'B': { /* start it: home, nursery size, stdin kept ("1"), names to unset
		           * (","-separated: the master's to its children), the setup source */
			const char *home = field(&q), *nursery = field(&q), *stdin_kept = field(&q), *unset = field(&q);
			const char *source = q;
			char *names = strdup(unset), *save = NULL;
			for (char *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save)) unsetenv(n);
			free(names);
			if (strcmp(stdin_kept, "1") != 0) {
				int null = open("/dev/null", O_RDONLY);
				if (null >= 0) dup2(null, 0), close(null);
			}
			stand_in(uwsgo_api_table());
			if (*home) {
				if (*nursery) setenv("PYPY_GC_NURSERY", nursery, 1);
				uwsgo_startup();
				if (*nursery) unsetenv("PYPY_GC_NURSERY");
				if (uwsgo_setup_home(home) != 0) {
					reply_text(-1, "pypy_setup_home failed: not a PyPy home matching the library");
					break;
				}
			}
			if (uwsgo_execute_setup(source) != 0) reply_text(-1, "the setup module raised an exception (its traceback is above)");
			else if (!uwsgo_hooks_installed()) reply_text(-1, "the setup module did not set the hooks of struct uwsgo_api");
			else {
				uwsgo_init_threads();
				reply(0, reports[2], report_lens[2]);
			}
			break;
		}
		case 'S':
			if (len >= 4) step(p, len);
			else reply_text(-1, "short step");
			break;
		case 'W':
			if (len >= 4) warmup(p, len);
			else reply_text(-1, "short warm-up");
			break;
		case 'F':
			if (len < 8) {
				reply_text(-1, "short fork request");
				break;
			}
			fork_worker(p, fd);
			if (getpid() != loader_pid) {
				free(p);
				return;
			}
			break;
		default:
			reply_text(-1, "unknown command");
		}
		if (fd >= 0 && cmd != 'F') close(fd);
		free(p);
	}
}

extern char **environ;

/* glibc hands constructors the program's arguments. */
__attribute__((constructor)) static void uwsgo_loader_main(int argc, char **argv, char **envp) {
	if (!getenv(LOADER_ENV) || uwsgo_pypy_present() || argc < 1) return;
	/* unsetenv shifts the entries of environ in place, and environ is still the array on
	 * the stack that a forked worker's Go runtime will read its environment from: the
	 * loader takes a copy of its own to change. */
	size_t n = 0;
	while (environ[n]) n++;
	char **own = malloc((n + 1) * sizeof *own);
	memcpy(own, environ, (n + 1) * sizeof *own);
	environ = own;
	unsetenv(LOADER_ENV);
	name = argv[0];
	run_loader();
}
