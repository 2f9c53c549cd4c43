/* The pre-fork loader: a uwsgo process that loads PyPy and the app before its Go runtime
 * starts, and forks the workers from that loaded image. See zygote.go. */
#ifndef UWSGO_ZYGOTE_H
#define UWSGO_ZYGOTE_H

/* Set in a worker forked from a loader (before Go started); -1 elsewhere. */
extern int uwsgo_forked_id, uwsgo_forked_record;
/* The instance-wide operations the app asked for in the loader are this worker's to do. */
extern int uwsgo_forked_once;

/* What the loader recorded for the worker to do once Go runs. */
const char *uwsgo_loader_report(int what, long *len);
int uwsgo_loader_signal(int sig); /* -1: the app did not ask for sig */
int uwsgo_loader_deferred(int i, int *op, const char **args, long *len); /* 0: no more */
int uwsgo_loader_asgi(void); /* 1: the image has an ASGI app's loop, to renew */
void uwsgo_loader_adopt(void);

#endif
