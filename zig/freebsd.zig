//! FreeBSD branch: `TCP_FASTOPEN` set on the client socket, then `sendto()`
//! with the address puts the data in the SYN. No lazy mode: `fastopen_lazy`
//! is a plain connect. `TCP_INFO` reports whether TFO is on for the connection.
//!
//! Values checked against the FreeBSD headers bundled with Zig
//! (lib/libc/include/generic-freebsd) and freebsd/freebsd-src
//! (sys/sys/socket.h, sys/netinet/tcp.h, tcp_fsm.h, tcp_usrreq.c, tcp_fastopen.c).
//!
//! Client TFO: setsockopt(TCP_FASTOPEN, 1) on the unconnected socket sets
//! TF_FASTOPEN; sendto() with the address then does an implied connect in
//! tcp_usr_send(), appends the data to the send buffer and calls
//! tcp_fastopen_connect(). With a cached cookie the data rides in the SYN;
//! without one the SYN carries a cookie request and the data follows the
//! handshake. Either way sendto() returns the bytes queued, also on a
//! non-blocking socket (no EINPROGRESS).
const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const bsd = @import("bsd.zig");
const status = @import("status.zig");
const errno = @import("errno.zig");
const Error = errno.Error;

pub const name = "freebsd";
pub const has_sa_len = bsd.has_sa_len;

// <sys/socket.h>: AF_INET 2, AF_INET6 28, SOL_SOCKET 0xffff, SO_ERROR 0x1007,
// SO_NOSIGPIPE 0x00000800, MSG_NOSIGNAL 0x00020000.
pub const AF_INET = bsd.AF_INET;
pub const AF_INET6: c_int = 28;
pub const SOL_SOCKET = bsd.SOL_SOCKET;
pub const SO_ERROR = bsd.SO_ERROR;
pub const SO_TYPE = bsd.SO_TYPE;
const SO_NOSIGPIPE: c_int = 0x0800;
pub const MSG_NOSIGNAL: c_int = 0x20000;
pub const CLOCK_MONOTONIC: c_int = 4;
// <netinet6/in6.h>.
pub const IPV6_V6ONLY = bsd.IPV6_V6ONLY;
// <sys/fcntl.h>.
/// socket(2) type flags; 0 where the platform lacks them (set with fcntl instead).
pub const SOCK_CLOEXEC: c_int = 0x10000000;
pub const SOCK_NONBLOCK: c_int = 0x20000000;
pub const O_NONBLOCK = bsd.O_NONBLOCK;

// <netinet/tcp.h>: TCP_INFO 32, TCP_FASTOPEN 1025, TCPI_OPT_TFO 0x20.
const TCP_INFO: c_int = 32;
const TCP_FASTOPEN: c_int = 1025;
const TCPI_OPT_TFO: u8 = 0x20;
// <netinet/tcp_fsm.h>.
const TCPS_ESTABLISHED = bsd.TCPS_ESTABLISHED;

/// The errno values the library acts on (see bsd.zig).
pub const E = bsd.Errno(45);

/// std.c.E's errno numbers are right for FreeBSD.
pub const errno_fixes = [_]errno.Fix{};

pub const errno_location = bsd.errno_location;

/// SO_NOSIGPIPE as a second guard beside MSG_NOSIGNAL.
pub fn prepare_socket(fd: i32) Error!void {
    assert(fd >= 0);
    try sys.set_int_option(fd, SOL_SOCKET, SO_NOSIGPIPE, 1);
}

/// setsockopt(TCP_FASTOPEN) with EPERM (the
/// net.inet.tcp.fastopen.{client,server}_enable sysctls forbid TFO) reported
/// as EOPNOTSUPP, which callers treat as "no TFO here" and fall back.
fn set_fastopen(fd: i32, enable: bool) Error!void {
    assert(fd >= 0);
    sys.set_int_option(fd, sys.IPPROTO_TCP, TCP_FASTOPEN, @intFromBool(enable)) catch |err| {
        return if (err == error.PERM) error.OPNOTSUPP else err;
    };
}

/// TCP_FASTOPEN on the client socket, then sendto with the address: the bytes
/// queued. The kernel takes the option only in TCPS_CLOSED.
pub fn fastopen_connect(fd: i32, sa: *const anyopaque, sa_len: u32, buf: [*]const u8, len: u32) Error!u32 {
    assert(fd >= 0);
    try set_fastopen(fd, true);
    return sys.byte_count(sys.sendto(fd, buf, len, MSG_NOSIGNAL, sa, sa_len));
}

/// FreeBSD has no lazy TFO: a plain connect (callers learn it from the status).
pub fn fastopen_lazy(fd: i32, sa: *const anyopaque, sa_len: u32) Error!void {
    assert(fd >= 0);
    try sys.check(sys.connect(fd, sa, sa_len));
}

/// Server side: TCP_FASTOPEN on/off (FreeBSD takes on/off; the pending limit is
/// half the listen backlog). Works before or after listen(): set before, the
/// flag is kept and listen() allocates the pending counter.
pub fn fastopen_listen(fd: i32, queue_length: u32) Error!void {
    assert(fd >= 0);
    try set_fastopen(fd, queue_length > 0);
}

/// No per-listener TFO key: FreeBSD has only the global
/// net.inet.tcp.fastopen.setkey sysctl.
pub fn fastopen_key(fd: i32, key: [*]const u8, len: u32) Error!void {
    assert(fd >= 0);
    assert(len == 16 or len == 32);
    _ = key;
    return error.OPNOTSUPP;
}

/// FreeBSD has no per-listener TFO key to read.
pub fn fastopen_key_get(fd: i32, out: *[32]u8) Error!u32 {
    assert(fd >= 0);
    _ = out;
    return error.OPNOTSUPP;
}

/// FreeBSD has no per-socket no-cookie mode (it is the PSK sysctl).
pub fn fastopen_no_cookie(fd: i32) Error!void {
    assert(fd >= 0);
    return error.OPNOTSUPP;
}

/// The head of `struct tcp_info` (<netinet/tcp.h>): tcpi_state at byte 0,
/// tcpi_options at byte 5.
const TcpInfoHead = extern struct {
    state: u8,
    ca_state: u8,
    retransmits: u8,
    probes: u8,
    backoff: u8,
    options: u8,
    wscale: u8,
    pad: u8,
};

comptime {
    assert(@offsetOf(TcpInfoHead, "options") == 5);
    assert(@sizeOf(TcpInfoHead) == 8);
}

/// What `fd` has sent (bytes, data segments): this platform's report does
/// not say how many bytes rode in the SYN, so error.OPNOTSUPP.
pub fn sent_counts(fd: i32) Error![2]u32 {
    assert(fd >= 0);
    return error.OPNOTSUPP;
}

/// TCP_INFO's tcpi_options has TCPI_OPT_TFO while the connection's TF_FASTOPEN
/// flag is set (FreeBSD 14+; older kernels never set it). That flag only says
/// TFO is on for the connection: a client that sent a bare cookie request
/// keeps it too, and it is cleared when the path is disabled. So the report
/// is a guess (`known` false): sent and acked follow the flag.
pub fn fastopen_status(fd: i32) Error!status.Status {
    assert(fd >= 0);
    var info: [256]u8 = @splat(0);
    var len: sys.socklen_t = info.len;
    try sys.check(sys.getsockopt(fd, sys.IPPROTO_TCP, TCP_INFO, &info, &len));
    if (len < @sizeOf(TcpInfoHead)) return error.IO;
    return decode_tcp_info(info[@offsetOf(TcpInfoHead, "state")], info[@offsetOf(TcpInfoHead, "options")]);
}

fn decode_tcp_info(state: u8, options: u8) status.Status {
    const used = options & TCPI_OPT_TFO != 0;
    return .{
        .known = false,
        .sent = used,
        .acked = used,
        .established = state >= TCPS_ESTABLISHED,
        .reason = if (used) .none else .unknown,
        .state = state,
    };
}

test "decode_tcp_info" {
    const used = decode_tcp_info(TCPS_ESTABLISHED, TCPI_OPT_TFO | 0x07);
    try std.testing.expect(!used.known and used.sent and used.acked and used.established);
    const plain = decode_tcp_info(2, 0x07);
    try std.testing.expect(!plain.sent and !plain.acked and !plain.established);
    try std.testing.expectEqual(status.Reason.unknown, plain.reason);
}
