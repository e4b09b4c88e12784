/*
 * Why this addon exists: Node.js cannot receive file descriptors over unix
 * sockets (SCM_RIGHTS) nor create SOCK_SEQPACKET sockets, and it has no
 * TIOCSWINSZ. The OCI runtime hands a container's pty master over a
 * --console-socket with SCM_RIGHTS, and conmon's attach socket is SEQPACKET.
 * So this file does exactly those syscalls and nothing else; every fd it
 * returns is then read and written by Node's own streams (net.Socket / tty).
 *
 * Exports:
 *   listenUnix(path) -> fd              a listening SOCK_STREAM unix socket
 *   recvFd(listenFd, timeoutMs) -> Promise<fd>
 *                                       accept one connection and receive one fd
 *                                       (on the libuv thread pool, not the event loop)
 *   connectSeqpacket(path, onPacket) -> fd
 *                                       connect to a SOCK_SEQPACKET unix socket; a thread
 *                                       reads packets and calls onPacket(Buffer) on the
 *                                       event loop, then onPacket(null) at EOF (libuv
 *                                       cannot poll SEQPACKET sockets, so no Node stream)
 *   sendPacket(fd, buffer) -> bytes     send one packet (blocking; stdin is small)
 *   shutdownFd(fd)                      shutdown(2): ends the reader; fd closed after EOF
 *   setWindowSize(fd, rows, cols)       ioctl(TIOCSWINSZ)
 *   dupFd(fd) -> fd                     dup with FD_CLOEXEC
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define CHECK(call)                                                                     \
  do {                                                                                  \
    if ((call) != napi_ok) {                                                            \
      napi_throw_error(env, NULL, "oci_native: node-api call failed: " #call);          \
      return NULL;                                                                      \
    }                                                                                   \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static int get_string(napi_env env, napi_value v, char *buf, size_t size) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) return -1;
  return len + 1 >= size ? -1 : 0;
}

/* Fills addr for path; long paths (> sun_path) go through /proc/self/fd of their directory. */
static int unix_addr(const char *path, struct sockaddr_un *addr, int *dirfd) {
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  *dirfd = -1;
  if (strlen(path) < sizeof addr->sun_path) {
    strcpy(addr->sun_path, path);
    return 0;
  }
  const char *slash = strrchr(path, '/');
  if (!slash) return -1;
  char dir[4096];
  size_t dlen = (size_t)(slash - path);
  if (dlen == 0 || dlen >= sizeof dir) return -1;
  memcpy(dir, path, dlen);
  dir[dlen] = 0;
  *dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*dirfd < 0) return -1;
  int n = snprintf(addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/%s", *dirfd, slash + 1);
  return n < 0 || (size_t)n >= sizeof addr->sun_path ? -1 : 0;
}

static napi_value listen_unix(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char path[4096];
  if (argc < 1 || get_string(env, argv[0], path, sizeof path) < 0) return throw_errno(env, "listenUnix: bad path", EINVAL);
  struct sockaddr_un addr;
  int dirfd;
  if (unix_addr(path, &addr, &dirfd) < 0) return throw_errno(env, "listenUnix: path", errno ? errno : ENAMETOOLONG);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int err = 0;
  if (fd < 0) err = errno;
  else if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 1) < 0) {
    err = errno;
    close(fd);
  }
  if (dirfd >= 0) close(dirfd);
  if (err) return throw_errno(env, "listenUnix", err);
  napi_value out;
  CHECK(napi_create_int32(env, fd, &out));
  return out;
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int listen_fd;
  int timeout_ms;
  int result_fd;
  int err;
  const char *what;
} recv_job;

static void recv_execute(napi_env env, void *data) {
  recv_job *job = data;
  struct pollfd p = {.fd = job->listen_fd, .events = POLLIN};
  int r;
  do r = poll(&p, 1, job->timeout_ms);
  while (r < 0 && errno == EINTR);
  if (r <= 0) {
    job->err = r == 0 ? ETIMEDOUT : errno;
    job->what = "waiting for the runtime to connect to the console socket";
    return;
  }
  int conn = accept4(job->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0) {
    job->err = errno;
    job->what = "accepting the console socket connection";
    return;
  }
  char byte[512];
  struct iovec iov = {.iov_base = byte, .iov_len = sizeof byte};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctrl;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.buf, .msg_controllen = sizeof ctrl.buf};
  ssize_t n;
  /* The peer sends the fd right after connecting; wait for it (bounded by the same timeout). */
  struct pollfd cp = {.fd = conn, .events = POLLIN};
  do r = poll(&cp, 1, job->timeout_ms);
  while (r < 0 && errno == EINTR);
  do n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : 0;
  close(conn);
  struct cmsghdr *c = n < 0 ? NULL : CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
    job->err = err ? err : EBADMSG;
    job->what = "receiving the pty from the runtime";
    return;
  }
  memcpy(&job->result_fd, CMSG_DATA(c), sizeof(int));
}

static void recv_complete(napi_env env, napi_status status, void *data) {
  recv_job *job = data;
  napi_value v;
  if (status == napi_ok && job->err == 0) {
    napi_create_int32(env, job->result_fd, &v);
    napi_resolve_deferred(env, job->deferred, v);
  } else {
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s", job->what ? job->what : "recvFd", strerror(job->err ? job->err : EIO));
    napi_value text;
    napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
    napi_create_error(env, NULL, text, &v);
    napi_reject_deferred(env, job->deferred, v);
  }
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value recv_fd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  recv_job *job = calloc(1, sizeof *job);
  if (!job) return throw_errno(env, "recvFd", ENOMEM);
  job->result_fd = -1;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &job->listen_fd) != napi_ok ||
      napi_get_value_int32(env, argv[1], &job->timeout_ms) != napi_ok) {
    free(job);
    return throw_errno(env, "recvFd: bad arguments", EINVAL);
  }
  napi_value promise, name;
  CHECK(napi_create_promise(env, &job->deferred, &promise));
  CHECK(napi_create_string_utf8(env, "oci_native.recvFd", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, recv_execute, recv_complete, job, &job->work));
  CHECK(napi_queue_async_work(env, job->work));
  return promise;
}

typedef struct {
  int fd;
  napi_threadsafe_function tsfn;
} reader_t;

typedef struct {
  ssize_t len; /* <= 0: end of stream */
  char data[];
} packet_t;

static void *read_packets(void *arg) {
  reader_t *r = arg;
  static __thread char buf[65536];
  for (;;) {
    ssize_t n = recv(r->fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    packet_t *p = malloc(sizeof *p + (n > 0 ? (size_t)n : 0));
    if (!p) break;
    p->len = n;
    if (n > 0) memcpy(p->data, buf, (size_t)n);
    napi_call_threadsafe_function(r->tsfn, p, napi_tsfn_blocking);
    if (n <= 0) break;
  }
  napi_release_threadsafe_function(r->tsfn, napi_tsfn_release);
  return NULL;
}

static void deliver_packet(napi_env env, napi_value cb, void *context, void *data) {
  packet_t *p = data;
  if (env && cb) {
    napi_value arg, undef;
    if (p->len > 0) {
      void *copy;
      napi_create_buffer_copy(env, (size_t)p->len, p->data, &copy, &arg);
    } else {
      napi_get_null(env, &arg);
    }
    napi_get_undefined(env, &undef);
    napi_call_function(env, undef, cb, 1, &arg, NULL);
  }
  free(p);
}

static void reader_finalize(napi_env env, void *data, void *hint) {
  reader_t *r = data;
  close(r->fd);
  free(r);
}

static napi_value connect_seqpacket(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char path[4096];
  if (argc < 2 || get_string(env, argv[0], path, sizeof path) < 0) return throw_errno(env, "connectSeqpacket: bad arguments", EINVAL);
  struct sockaddr_un addr;
  int dirfd;
  if (unix_addr(path, &addr, &dirfd) < 0) return throw_errno(env, "connectSeqpacket: path", errno ? errno : ENAMETOOLONG);
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  int err = 0;
  if (fd < 0) err = errno;
  else if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    err = errno;
    close(fd);
  }
  if (dirfd >= 0) close(dirfd);
  if (err) return throw_errno(env, "connecting to the attach socket", err);
  reader_t *r = calloc(1, sizeof *r);
  if (!r) {
    close(fd);
    return throw_errno(env, "connectSeqpacket", ENOMEM);
  }
  r->fd = fd;
  napi_value name;
  CHECK(napi_create_string_utf8(env, "oci_native.attach", NAPI_AUTO_LENGTH, &name));
  if (napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, r, reader_finalize, NULL, deliver_packet, &r->tsfn) != napi_ok) {
    close(fd);
    free(r);
    return throw_errno(env, "connectSeqpacket: callback", EINVAL);
  }
  pthread_t thread;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  err = pthread_create(&thread, &attr, read_packets, r);
  pthread_attr_destroy(&attr);
  if (err) {
    napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
    return throw_errno(env, "connectSeqpacket: thread", err);
  }
  napi_value out;
  CHECK(napi_create_int32(env, fd, &out));
  return out;
}

static napi_value send_packet(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  void *data;
  size_t len;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok)
    return throw_errno(env, "sendPacket: bad arguments", EINVAL);
  ssize_t n;
  do n = send(fd, data, len, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, "writing to the attach socket", errno);
  napi_value out;
  CHECK(napi_create_int64(env, n, &out));
  return out;
}

static napi_value shutdown_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) return throw_errno(env, "shutdownFd: bad arguments", EINVAL);
  shutdown(fd, SHUT_RDWR);
  return NULL;
}

static napi_value set_window_size(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd, rows, cols;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &rows) != napi_ok ||
      napi_get_value_int32(env, argv[2], &cols) != napi_ok || rows < 0 || cols < 0 || rows > 65535 || cols > 65535)
    return throw_errno(env, "setWindowSize: bad arguments", EINVAL);
  struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0) return throw_errno(env, "setting the terminal size", errno);
  return NULL;
}

static napi_value dup_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int fd;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) return throw_errno(env, "dupFd: bad arguments", EINVAL);
  int out_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (out_fd < 0) return throw_errno(env, "dupFd", errno);
  napi_value out;
  CHECK(napi_create_int32(env, out_fd, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"listenUnix", NULL, listen_unix, NULL, NULL, NULL, napi_default, NULL},
      {"recvFd", NULL, recv_fd, NULL, NULL, NULL, napi_default, NULL},
      {"connectSeqpacket", NULL, connect_seqpacket, NULL, NULL, NULL, napi_default, NULL},
      {"sendPacket", NULL, send_packet, NULL, NULL, NULL, napi_default, NULL},
      {"shutdownFd", NULL, shutdown_fd, NULL, NULL, NULL, napi_default, NULL},
      {"setWindowSize", NULL, set_window_size, NULL, NULL, NULL, napi_default, NULL},
      {"dupFd", NULL, dup_fd, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
