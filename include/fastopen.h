/*
 * fastopen.h: the C ABI of libfastopen, libowfat-style TCP Fast Open
 * (libfastopen.so on Linux and FreeBSD, libfastopen.dylib on macOS).
 *
 * Built from zig/root.zig, whose `export fn`s this header declares one for
 * one (test/native/exports.test.ts checks that the two, and the Bun
 * loader's symbol table, agree). ABI revision 2 (fo_abi_version).
 *
 * Conventions of every function:
 * - the result is an int32_t: >= 0 on success, -errno on failure. errno
 *   itself is not set for the caller; the result carries it.
 * - addresses are 16 bytes of IPv6 (IPv4 as the v4-mapped ::ffff:a.b.c.d)
 *   or 4 bytes of IPv4, in network order; ports in host order (0..65535);
 *   scope ids (interface indexes, for link-local addresses) as uint32_t.
 * - pointers are only read or written during the call, never kept.
 * - arguments are checked one after the other, and the first bad one is
 *   the result: a negative fd gives -EBADF, a port above 65535 or a length
 *   above INT32_MAX gives -EINVAL; no bad argument crashes the library.
 * - sockets are close-on-exec, and writes never raise SIGPIPE (MSG_NOSIGNAL
 *   or SO_NOSIGPIPE: a write to a closed peer gives -EPIPE).
 *
 * Where a function's name matches libowfat's (socket_fastopen_connect6 ...),
 * it behaves as libowfat's, with the -errno result instead of -1 + errno.
 */
#ifndef FASTOPEN_H
#define FASTOPEN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* poll events for fo_socket_poll (the same values on every platform). */
#define FO_POLLIN 1
#define FO_POLLOUT 4

/* Modes of fo_connect_start. */
#define FO_CONNECT_PLAIN 0    /* a plain non-blocking connect */
#define FO_CONNECT_SYN_DATA 1 /* buf[0..len] in the SYN (TFO) */
#define FO_CONNECT_LAZY 2     /* lazy TFO: the SYN leaves with the first write */

/* ---- library ---- */

/* The ABI revision, bumped whenever a function changes shape. 2 for this header. */
int32_t fo_abi_version(void);

/* ---- sockets ---- */

/* A non-blocking IPv6 TCP socket that also reaches IPv4 peers (v4-mapped):
 * the fd, or -errno. */
int32_t fo_socket_tcp6(void);

/* A blocking IPv6 TCP socket (v4-mapped peers too): the fd, or -errno. */
int32_t fo_socket_tcp6b(void);

/* A non-blocking IPv4 TCP socket: the fd, or -errno. */
int32_t fo_socket_tcp4(void);

/* A blocking IPv4 TCP socket: the fd, or -errno. */
int32_t fo_socket_tcp4b(void);

/* Binds fd to [ip]:port (scope_id for a link-local ip; port 0: any). 0 or
 * -errno. An IPv4 socket takes only a v4-mapped ip (else -EAFNOSUPPORT);
 * a socket that is not a stream socket gives -EPROTOTYPE. */
int32_t fo_socket_bind6(int32_t fd, const uint8_t ip[16], uint32_t port, uint32_t scope_id);

/* Binds fd to ip4:port. 0 or -errno. */
int32_t fo_socket_bind4(int32_t fd, const uint8_t ip4[4], uint32_t port);

/* A plain connect to [ip]:port. 0, or -errno: -EINPROGRESS on a
 * non-blocking socket (then wait for POLLOUT and ask fo_socket_connected). */
int32_t fo_socket_connect6(int32_t fd, const uint8_t ip[16], uint32_t port, uint32_t scope_id);

/* A plain connect to ip4:port. 0 or -errno, as fo_socket_connect6. */
int32_t fo_socket_connect4(int32_t fd, const uint8_t ip4[4], uint32_t port);

/* libowfat's socket_fastopen_connect6: connects to [ip]:port with
 * buf[0..len] in the SYN where the platform and a cached cookie allow it,
 * else connect + send. The bytes sent or queued (>= 0, possibly fewer than
 * len on a non-blocking socket), or -errno; -EINPROGRESS means nothing was
 * queued yet (no cookie: the SYN asked for one) and all of buf is unsent.
 * When the platform refuses TFO itself (TFO turned off), the plain path is
 * taken and remembered for 1000 ms (fo_fastopen_refused_ms). */
int32_t fo_socket_fastopen_connect6(int32_t fd, const uint8_t ip[16], uint32_t port, uint32_t scope_id,
                                    const uint8_t *buf, uint32_t len);

/* libowfat's socket_fastopen_connect4: as fo_socket_fastopen_connect6, to ip4:port. */
int32_t fo_socket_fastopen_connect4(int32_t fd, const uint8_t ip4[4], uint32_t port, const uint8_t *buf,
                                    uint32_t len);

/* Lazy TFO connect to [ip]:port: the SYN leaves with the first write,
 * carrying its data (Linux TCP_FASTOPEN_CONNECT, macOS connectx with
 * CONNECT_RESUME_ON_READ_WRITE; a plain connect on FreeBSD). 0 or -errno
 * (-EINPROGRESS when a plain SYN went out at once). */
int32_t fo_socket_fastopen_lazy6(int32_t fd, const uint8_t ip[16], uint32_t port, uint32_t scope_id);

/* The state of a non-blocking connect: 1 connected, 0 still connecting,
 * -errno when it failed (for example -ECONNREFUSED). */
int32_t fo_socket_connected(int32_t fd);

/* Server side: enables TFO on listening socket fd with room for
 * queue_length pending TFO requests (Linux; macOS and FreeBSD take it as
 * on/off, and macOS only after listen). 0 or -errno: -EOPNOTSUPP on macOS
 * and FreeBSD when the system has server TFO turned off; -EINVAL for a
 * queue_length above INT_MAX. */
int32_t fo_socket_fastopen(int32_t fd, uint32_t queue_length);

/* Lets fd send SYN data without a cookie (Linux TCP_FASTOPEN_NO_COOKIE; the
 * server must accept that). 0 or -errno; -EOPNOTSUPP on macOS and FreeBSD. */
int32_t fo_socket_fastopen_no_cookie(int32_t fd);

/* Server side: sets listener fd's own TFO cookie key (Linux TCP_FASTOPEN_KEY,
 * in place of the namespace's net.ipv4.tcp_fastopen_key). len 16: key[0..16]
 * is the primary key, which issues and accepts cookies; len 32: key[16..32]
 * is a backup key whose cookies are still accepted (rotation without a
 * cookie gap). 0 or -errno: -EINVAL for another len; -EOPNOTSUPP on macOS
 * and FreeBSD (no per-listener key; FreeBSD has the
 * net.inet.tcp.fastopen.setkey sysctl). */
int32_t fo_socket_fastopen_key(int32_t fd, const uint8_t *key, uint32_t len);

/* The TFO keys fd has of its own (set with fo_socket_fastopen_key) into
 * out[0..32]: the bytes written, 16 (primary), 32 (primary, backup) or 0
 * (none: fd uses the namespace's key, not reported here), or -errno
 * (-EOPNOTSUPP on macOS and FreeBSD). */
int32_t fo_socket_fastopen_key_get(int32_t fd, uint8_t out[32]);

/* listen(2) with backlog (clamped to INT_MAX). 0 or -errno. */
int32_t fo_socket_listen(int32_t fd, uint32_t backlog);

/* Accepts a connection on fd: the new fd (close-on-exec, non-blocking when
 * fd is), or -errno (-EAGAIN when none is pending on a non-blocking fd).
 * The peer goes to ip, meta[0] = its port, meta[1] = its scope id. */
int32_t fo_socket_accept6(int32_t fd, uint8_t ip[16], uint32_t meta[2]);

/* fd's local address into ip, meta[0] = port, meta[1] = scope id. 0 or -errno. */
int32_t fo_socket_local6(int32_t fd, uint8_t ip[16], uint32_t meta[2]);

/* fd's peer address into ip, meta[0] = port, meta[1] = scope id. 0 or
 * -errno (-ENOTCONN while not connected). */
int32_t fo_socket_remote6(int32_t fd, uint8_t ip[16], uint32_t meta[2]);

/* send(2) of buf[0..len] without SIGPIPE: the bytes sent, or -errno. */
int32_t fo_socket_send(int32_t fd, const uint8_t *buf, uint32_t len);

/* recv(2) into buf[0..len]: the bytes read, 0 at the end of the stream, or -errno. */
int32_t fo_socket_recv(int32_t fd, uint8_t *buf, uint32_t len);

/* Waits up to timeout_ms (-1: forever) for events (FO_POLLIN, FO_POLLOUT;
 * at most 0x7fff) on fd: the events that occurred (poll revents), 0 on
 * timeout, or -errno (-EBADF when fd is not open). */
int32_t fo_socket_poll(int32_t fd, uint32_t events, int32_t timeout_ms);

/* shutdown(SHUT_WR): the peer reads the end of the stream. 0 or -errno. */
int32_t fo_socket_shutdown_write(int32_t fd);

/* close(2). 0 or -errno; the fd is gone either way. */
int32_t fo_socket_close(int32_t fd);

/* ---- one call per connection start ---- */

/* A new non-blocking socket of family (4: IPv4, ip v4-mapped; 6: IPv6,
 * dual-stack for a v4-mapped ip), then the connect to [ip]:port (port
 * 1..65535) in mode (FO_CONNECT_*; buf[0..len] in the SYN for
 * FO_CONNECT_SYN_DATA). Returns the fd (>= 0) with out[0] = the connect's
 * result (bytes queued, or -EINPROGRESS) and out[1] = 1 when the platform
 * refused TFO (plain path taken); or -errno with out[0] = the stage that
 * failed (0 socket, 1 connect), out[1] = 0 and no fd left open. */
int32_t fo_connect_start(const uint8_t ip[16], uint32_t port, uint32_t scope_id, uint32_t family, uint32_t mode,
                         const uint8_t *buf, uint32_t len, int32_t out[2]);

/* ---- TFO state ---- */

/* The TFO outcome of fd's connection as one word (>= 0), or -errno:
 *   bit 0  known        the platform reports TFO state for this socket
 *   bit 1  sent         data rode in the SYN
 *   bit 2  acked        the peer acknowledged the SYN data
 *   bit 3  established  the handshake has completed
 *   bits 8..15  reason  0 none, 1 no cookie (the SYN asked for one),
 *                       2 data not acked, 3 SYN retransmitted,
 *                       4 blackhole (the platform disabled TFO), 5 unknown
 *   bits 16..23 state   the platform's raw TCP state
 */
int32_t fo_fastopen_status(int32_t fd);

/* What fd has sent, from the platform's TCP report: out[0] payload bytes
 * (retransmissions included, at most 2^32-1), out[1] data segments (a SYN
 * with data counts as one). 0, or -errno (-EOPNOTSUPP where the platform
 * does not say: macOS, FreeBSD, Linux before 4.19), with out zeroed. */
int32_t fo_fastopen_sent(int32_t fd, uint32_t out[2]);

/* 1 while a refusal of TFO by the platform is remembered (connects take the
 * plain path), else 0. A refusal is remembered for 1000 ms. */
int32_t fo_fastopen_refused(void);

/* Milliseconds the remembered refusal still holds (0..1000; TFO is tried
 * again by the first connect after it), 0 when none is remembered. */
int32_t fo_fastopen_refused_ms(void);

/* Forgets an earlier refusal, so the next connect tries TFO again. 0. */
int32_t fo_fastopen_reset(void);

#ifdef __cplusplus
}
#endif

#endif /* FASTOPEN_H */
