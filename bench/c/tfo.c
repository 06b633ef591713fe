/*
 * Native reference programs of the benchmarks (built by bench/lib/build.ts
 * with cc -I include: the fo_* prototypes come from include/fastopen.h).
 *
 *   tfo server <port>                          epoll TFO server on [::]:port: reads 64 B, answers 64 B, closes on
 *                                              EOF; exits when its stdin (a pipe) closes
 *   tfo rate <ip6> <port> <conc> <ms> <warm-ms> [plain]  TFO client loop (sendto MSG_FASTOPEN; with `plain`:
 *                                              connect, then write); JSON on stdout
 *   tfo librate <lib> <ip6> <port> <ms> <warm-ms>  the same loop (concurrency 1) through libfastopen's fo_* calls
 *   tfo ffi <lib> <calls>                      fo_socket_fastopen_connect6 on a closed fd, <calls> times; JSON
 *
 * The client loops count a connection once its 64-byte response has arrived.
 * Every program exits non-zero with a message on stderr when a call fails.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fastopen.h"

#define MSG_LEN 64
#define MAX_CONC 1024

static void die(const char *what) {
  fprintf(stderr, "tfo: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static struct sockaddr_in6 address(const char *ip, const char *port) {
  struct sockaddr_in6 sa;
  memset(&sa, 0, sizeof sa);
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons((uint16_t)atoi(port));
  if (inet_pton(AF_INET6, ip, &sa.sin6_addr) != 1) {
    fprintf(stderr, "tfo: bad IPv6 address %s\n", ip);
    exit(2);
  }
  return sa;
}

/* ---- server ---- */

struct peer {
  int fd;
  int got;
};

static void serve_read(int ep, struct peer *p) {
  static const char reply[MSG_LEN] = {'r'};
  char buf[4096];
  for (;;) {
    ssize_t n = read(p->fd, buf, sizeof buf);
    if (n > 0) {
      int before = p->got;
      p->got += (int)n;
      if (before < MSG_LEN && p->got >= MSG_LEN && write(p->fd, reply, MSG_LEN) != MSG_LEN) n = 0;
      else continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    epoll_ctl(ep, EPOLL_CTL_DEL, p->fd, NULL);
    close(p->fd);
    free(p);
    return;
  }
}

static int cmd_server(const char *port) {
  int ls = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (ls < 0) die("socket");
  int one = 1, qlen = 4096;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in6 sa = address("::", port);
  if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
  if (listen(ls, 4096) < 0) die("listen");
  if (setsockopt(ls, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof qlen) < 0) die("TCP_FASTOPEN");
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  static int stdin_tag;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) < 0) die("epoll_ctl");
  struct epoll_event in = {.events = EPOLLIN | EPOLLHUP, .data.ptr = &stdin_tag};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &in) < 0) die("epoll_ctl stdin (run it with stdin a pipe)");
  printf("ready\n");
  fflush(stdout);
  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(ep, events, 256, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      if (events[i].data.ptr == &stdin_tag) {
        char buf[256];
        if (read(0, buf, sizeof buf) <= 0) return 0; /* stdin closed: done */
        continue;
      }
      if (events[i].data.ptr != NULL) {
        serve_read(ep, events[i].data.ptr);
        continue;
      }
      for (;;) {
        int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        struct peer *p = calloc(1, sizeof *p);
        if (p == NULL) die("calloc");
        p->fd = fd;
        struct epoll_event pev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = p};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &pev) < 0) die("epoll_ctl");
        serve_read(ep, p); /* TFO: the request came with the SYN */
      }
    }
  }
  return 0;
}

/* ---- raw TFO client ---- */

static const char request[MSG_LEN] = {'q'};

struct conn {
  int fd;
  int sent;
  int got;
};

/* 1: the client loops connect plainly (connect, then write the request), for TFO's baseline. */
static int plain_mode;

/* Opens a connection with the request in the SYN (or a plain connect); returns the epoll events to wait for. */
static uint32_t conn_start(struct conn *c, const struct sockaddr_in6 *sa) {
  c->fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) die("socket");
  c->got = 0;
  c->sent = 0;
  if (plain_mode) {
    if (connect(c->fd, (const struct sockaddr *)sa, sizeof *sa) < 0 && errno != EINPROGRESS) die("connect");
    return EPOLLOUT;
  }
  ssize_t n = sendto(c->fd, request, MSG_LEN, MSG_FASTOPEN | MSG_NOSIGNAL, (const struct sockaddr *)sa, sizeof *sa);
  if (n < 0 && errno != EINPROGRESS) die("sendto(MSG_FASTOPEN)");
  c->sent = n < 0 ? 0 : (int)n;
  return c->sent == MSG_LEN ? EPOLLIN : EPOLLOUT;
}

/* Handles readiness; returns 1 when the response is complete, -1 when the fd must wait for `*want`. */
static int conn_step(struct conn *c, uint32_t *want) {
  if (c->sent < MSG_LEN) {
    ssize_t n = send(c->fd, request + c->sent, (size_t)(MSG_LEN - c->sent), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != ENOTCONN) die("send");
    if (n > 0) c->sent += (int)n;
    *want = c->sent == MSG_LEN ? EPOLLIN : EPOLLOUT;
    return -1;
  }
  char buf[MSG_LEN];
  for (;;) {
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n > 0) {
      c->got += (int)n;
      if (c->got >= MSG_LEN) return 1;
      continue;
    }
    if (n == 0) {
      errno = ECONNRESET;
      die("read: early end of stream");
    }
    if (errno == EAGAIN) break;
    if (errno != EINTR) die("read");
  }
  *want = EPOLLIN;
  return -1;
}

/* One connection at a time on a blocking socket: the lowest-overhead loop. */
static long blocking_loop(const struct sockaddr_in6 *sa, double until) {
  long done = 0;
  char buf[MSG_LEN];
  do {
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    if (plain_mode) {
      if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0) die("connect");
      if (write(fd, request, MSG_LEN) != MSG_LEN) die("write short");
    } else {
      ssize_t n = sendto(fd, request, MSG_LEN, MSG_FASTOPEN | MSG_NOSIGNAL, (const struct sockaddr *)sa, sizeof *sa);
      if (n != MSG_LEN) die("sendto(MSG_FASTOPEN) short");
    }
    int got = 0;
    while (got < MSG_LEN) {
      ssize_t r = read(fd, buf, sizeof buf);
      if (r <= 0) die("read");
      got += (int)r;
    }
    close(fd);
    done++;
  } while (now_ms() < until);
  return done;
}

static long epoll_loop(const struct sockaddr_in6 *sa, int conc, double until) {
  static struct conn conns[MAX_CONC];
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  for (int i = 0; i < conc; i++) {
    struct epoll_event ev = {.events = conn_start(&conns[i], sa), .data.ptr = &conns[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) < 0) die("epoll_ctl");
  }
  long done = 0;
  struct epoll_event events[MAX_CONC];
  while (now_ms() < until) {
    int n = epoll_wait(ep, events, MAX_CONC, 100);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      uint32_t want = 0;
      if (conn_step(c, &want) == 1) {
        close(c->fd); /* also leaves the epoll set */
        done++;
        want = conn_start(c, sa);
        struct epoll_event ev = {.events = want, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
      } else {
        struct epoll_event ev = {.events = want, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl");
      }
    }
  }
  for (int i = 0; i < conc; i++) close(conns[i].fd);
  close(ep);
  return done;
}

static long run_loop(const struct sockaddr_in6 *sa, int conc, double ms) {
  double until = now_ms() + ms;
  return conc == 1 ? blocking_loop(sa, until) : epoll_loop(sa, conc, until);
}

/* `made`: every connection, warm-up included (to compare with the TFO counters). */
static void print_rate(long done, double ms, long made) {
  printf("{\"connections\":%ld,\"seconds\":%.3f,\"rate\":%.1f,\"made\":%ld}\n", done, ms / 1e3,
         (double)done / (ms / 1e3), made);
}

static int cmd_rate(const char *ip, const char *port, int conc, double ms, double warm) {
  if (conc < 1 || conc > MAX_CONC) {
    fprintf(stderr, "tfo: concurrency must be 1..%d\n", MAX_CONC);
    return 2;
  }
  struct sockaddr_in6 sa = address(ip, port);
  /* Warm-up: the first connection fetches the cookie (its data goes after the handshake). */
  long made = blocking_loop(&sa, 0);
  made += run_loop(&sa, conc, warm);
  double t0 = now_ms();
  long done = run_loop(&sa, conc, ms);
  print_rate(done, now_ms() - t0, made + done);
  return 0;
}

/* ---- the same loop through libfastopen ---- */

/* The library is loaded at run time (its path is an argument): each fo_*
 * function is looked up with dlsym into a pointer of the type fastopen.h
 * declares for it. */
#define FO_SYMBOL(lib, name) ((__typeof__(&name))symbol(lib, #name))

static void *symbol(void *lib, const char *name) {
  void *fn = dlsym(lib, name);
  if (fn == NULL) {
    fprintf(stderr, "tfo: %s: %s\n", name, dlerror());
    exit(1);
  }
  return fn;
}

static void *open_lib(const char *path) {
  void *lib = dlopen(path, RTLD_NOW);
  if (lib == NULL) {
    fprintf(stderr, "tfo: dlopen %s: %s\n", path, dlerror());
    exit(1);
  }
  return lib;
}

static int cmd_librate(const char *path, const char *ip, const char *port, double ms, double warm) {
  void *lib = open_lib(path);
  __typeof__(&fo_socket_tcp6b) tcp6b = FO_SYMBOL(lib, fo_socket_tcp6b);
  __typeof__(&fo_socket_fastopen_connect6) fastopen = FO_SYMBOL(lib, fo_socket_fastopen_connect6);
  __typeof__(&fo_socket_recv) recv6 = FO_SYMBOL(lib, fo_socket_recv);
  __typeof__(&fo_socket_close) close6 = FO_SYMBOL(lib, fo_socket_close);
  struct sockaddr_in6 sa = address(ip, port);
  uint8_t ip16[16];
  memcpy(ip16, &sa.sin6_addr, 16);
  uint32_t p = (uint32_t)atoi(port);
  uint8_t buf[MSG_LEN];
  double t0 = 0;
  long done = 0, made = 0;
  double start = now_ms();
  for (;;) {
    double t = now_ms();
    if (t0 == 0 && t >= start + warm) {
      t0 = t;
      made += done;
      done = 0;
    }
    if (t0 != 0 && t >= t0 + ms) break;
    int32_t fd = tcp6b();
    if (fd < 0) die("fo_socket_tcp6b");
    int32_t n = fastopen(fd, ip16, p, 0, (const uint8_t *)request, MSG_LEN);
    if (n != MSG_LEN && !(done == 0 && t0 == 0)) {
      fprintf(stderr, "tfo: fo_socket_fastopen_connect6 gave %d\n", n);
      exit(1);
    }
    int got = 0;
    while (got < MSG_LEN) {
      int32_t r = recv6(fd, buf, MSG_LEN);
      if (r <= 0) {
        fprintf(stderr, "tfo: fo_socket_recv gave %d\n", r);
        exit(1);
      }
      got += r;
    }
    close6(fd);
    done++;
  }
  print_rate(done, now_ms() - t0, made + done);
  return 0;
}

/* ---- per-call cost of fo_socket_fastopen_connect6 ---- */

static int cmd_ffi(const char *path, long calls) {
  void *lib = open_lib(path);
  __typeof__(&fo_socket_fastopen_connect6) fastopen = FO_SYMBOL(lib, fo_socket_fastopen_connect6);
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  close(fd); /* a closed fd: the library's first syscall fails with EBADF */
  uint8_t ip16[16] = {0};
  ip16[15] = 1;
  int32_t last = 0;
  double t0 = now_ms();
  for (long i = 0; i < calls; i++) last = fastopen(fd, ip16, 9, 0, (const uint8_t *)request, MSG_LEN);
  double ms = now_ms() - t0;
  printf("{\"calls\":%ld,\"ns_per_call\":%.1f,\"result\":%d}\n", calls, ms * 1e6 / (double)calls, last);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "server") == 0) return cmd_server(argv[2]);
  if ((argc == 7 || (argc == 8 && strcmp(argv[7], "plain") == 0)) && strcmp(argv[1], "rate") == 0) {
    plain_mode = argc == 8;
    return cmd_rate(argv[2], argv[3], atoi(argv[4]), atof(argv[5]), atof(argv[6]));
  }
  if (argc == 7 && strcmp(argv[1], "librate") == 0)
    return cmd_librate(argv[2], argv[3], argv[4], atof(argv[5]), atof(argv[6]));
  if (argc == 4 && strcmp(argv[1], "ffi") == 0) return cmd_ffi(argv[2], atol(argv[3]));
  fprintf(stderr, "usage: tfo server <port> | rate <ip6> <port> <conc> <ms> <warm-ms> [plain]"
                  " | librate <lib> <ip6> <port> <ms> <warm-ms> | ffi <lib> <calls>\n");
  return 2;
}
