//! macOS branch: `connectx()` with `CONNECT_DATA_IDEMPOTENT` for data in the
//! SYN (`CONNECT_RESUME_ON_READ_WRITE` for the lazy form), `TCP_FASTOPEN_FORCE_ENABLE`
//! set first so Darwin's TFO heuristics do not silently turn TFO off, and
//! `TCP_CONNECTION_INFO` for the per-connection report.
//!
//! Values checked against the macOS SDK headers bundled with Zig
//! (lib/libc/include/any-darwin-any) and apple-oss-distributions/xnu
//! (bsd/sys/socket.h, bsd/netinet/tcp.h, tcp_private.h, tcp_fsm.h,
//! bsd/kern/uipc_syscalls.c, bsd/netinet/tcp_usrreq.c).
//!
//! Writes while the handshake is in progress: Darwin's sosendcheck() returns
//! ENOTCONN on a socket that is connecting but not yet connected, unless it
//! still holds the pre-connect (TFO) write. So after a connectx() that queued
//! only part of the buffer, or after the first write of a lazy connect, the
//! caller must wait for the connection (POLLOUT / `connected()`) before the
//! next write.
const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const bsd = @import("bsd.zig");
const status = @import("status.zig");
const errno = @import("errno.zig");
const Error = errno.Error;

pub const name = "darwin";
pub const has_sa_len = bsd.has_sa_len;

// <sys/socket.h>: AF_INET 2, AF_INET6 30, SOL_SOCKET 0xffff, SO_ERROR 0x1007,
// SO_NOSIGPIPE 0x1022 (APPLE).
pub const AF_INET = bsd.AF_INET;
pub const AF_INET6: c_int = 30;
pub const SOL_SOCKET = bsd.SOL_SOCKET;
pub const SO_ERROR = bsd.SO_ERROR;
pub const SO_TYPE = bsd.SO_TYPE;
const SO_NOSIGPIPE: c_int = 0x1022;
// <netinet6/in6.h>.
pub const IPV6_V6ONLY = bsd.IPV6_V6ONLY;
// <sys/fcntl.h>.
/// socket(2) type flags; 0 where the platform lacks them (set with fcntl instead).
pub const SOCK_CLOEXEC: c_int = 0;
pub const SOCK_NONBLOCK: c_int = 0;
pub const O_NONBLOCK = bsd.O_NONBLOCK;
/// Recent SDKs define MSG_NOSIGNAL 0x80000 (<sys/socket.h>, guarded by
/// __DARWIN_C_LEVEL >= 200809L), but older kernels lack it: sockets get
/// SO_NOSIGPIPE instead, which every macOS version honours.
pub const MSG_NOSIGNAL: c_int = 0;
/// <time.h> _CLOCK_MONOTONIC.
pub const CLOCK_MONOTONIC: c_int = 6;

// <netinet/tcp.h>: TCP_FASTOPEN 0x105, TCP_CONNECTION_INFO 0x106.
const TCP_FASTOPEN: c_int = 0x105;
const TCP_CONNECTION_INFO: c_int = 0x106;
// <netinet/tcp_private.h> (PRIVATE, not in the public SDK): TCP_FASTOPEN_FORCE_ENABLE 0x218.
const TCP_FASTOPEN_FORCE_ENABLE: c_int = 0x218;

// <sys/socket.h>: connectx() flags and association id.
const CONNECT_RESUME_ON_READ_WRITE: c_uint = 0x1;
const CONNECT_DATA_IDEMPOTENT: c_uint = 0x2;
const SAE_ASSOCID_ANY: u32 = 0;

// <netinet/tcp_fsm.h>.
const TCPS_ESTABLISHED = bsd.TCPS_ESTABLISHED;

/// The errno values the library acts on (see bsd.zig).
pub const E = bsd.Errno(102);

/// <sys/errno.h>: ENOTSUP is 45 and EOPNOTSUPP 102, where std.c.E calls 45
/// OPNOTSUPP and lacks 102. ENOTSUP is what setsockopt(TCP_FASTOPEN) returns
/// when the net.inet.tcp.fastopen sysctl has the server bit off.
pub const errno_fixes = [_]errno.Fix{
    .{ .name = "NOTSUP", .number = 45 },
    .{ .name = "OPNOTSUPP", .number = 102 },
};

pub const errno_location = bsd.errno_location;

/// `sa_endpoints_t` from <sys/socket.h>: unsigned int, pointer, socklen_t,
/// pointer, socklen_t (40 bytes on LP64).
const Endpoints = extern struct {
    srcif: c_uint,
    srcaddr: ?*const anyopaque,
    srcaddrlen: sys.socklen_t,
    dstaddr: ?*const anyopaque,
    dstaddrlen: sys.socklen_t,
};

comptime {
    assert(@offsetOf(Endpoints, "srcaddr") == 8);
    assert(@offsetOf(Endpoints, "dstaddr") == 24);
    assert(@offsetOf(Endpoints, "dstaddrlen") == 32);
    assert(@sizeOf(Endpoints) == 40);
}

/// `struct iovec`.
const IoVec = extern struct {
    base: ?*const anyopaque,
    len: usize,
};

/// <sys/socket.h>: int connectx(int, const sa_endpoints_t *, sae_associd_t,
/// unsigned int, const struct iovec *, unsigned int, size_t *, sae_connid_t *);
/// (macOS 10.11+). The kernel rejects a non-null iov with iovcnt 0 (EINVAL),
/// and writes *len (when non-null) on success and on EINPROGRESS.
extern "c" fn connectx(
    fd: c_int,
    endpoints: *const Endpoints,
    associd: u32,
    flags: c_uint,
    iov: ?[*]const IoVec,
    iovcnt: c_uint,
    len: ?*usize,
    connid: ?*u32,
) c_int;

fn endpoints_for(sa: *const anyopaque, sa_len: u32) Endpoints {
    assert(sa_len > 0);
    return .{ .srcif = 0, .srcaddr = null, .srcaddrlen = 0, .dstaddr = sa, .dstaddrlen = sa_len };
}

/// SO_NOSIGPIPE: a write to a closed peer returns EPIPE instead of raising SIGPIPE.
pub fn prepare_socket(fd: i32) Error!void {
    assert(fd >= 0);
    try sys.set_int_option(fd, SOL_SOCKET, SO_NOSIGPIPE, 1);
}

/// Keeps Darwin's TFO heuristics from disabling TFO after losses. Best effort:
/// the option is private, the kernel takes it only in TCPS_CLOSED, and older
/// kernels lack it; TFO then works as the system decides.
fn force_enable(fd: i32) void {
    sys.set_int_option(fd, sys.IPPROTO_TCP, TCP_FASTOPEN_FORCE_ENABLE, 1) catch {};
}

/// connectx with the data: the bytes queued. A non-blocking socket gets
/// EINPROGRESS from the kernel with *len set to the bytes queued
/// (tcp_usr_connectx_common turns the send's EWOULDBLOCK into EINPROGRESS);
/// that is reported as the byte count, or as error.INPROGRESS when nothing was queued.
pub fn fastopen_connect(fd: i32, sa: *const anyopaque, sa_len: u32, buf: [*]const u8, len: u32) Error!u32 {
    assert(fd >= 0);
    force_enable(fd);
    const endpoints = endpoints_for(sa, sa_len);
    const iov = [_]IoVec{.{ .base = buf, .len = len }};
    // Without data, no iov at all: a non-null iov with iovcnt 0 is EINVAL.
    const iov_ptr: ?[*]const IoVec = if (len == 0) null else &iov;
    const iov_count: c_uint = if (len == 0) 0 else 1;
    var sent: usize = 0;
    const rc = connectx(fd, &endpoints, SAE_ASSOCID_ANY, CONNECT_DATA_IDEMPOTENT, iov_ptr, iov_count, &sent, null);
    assert(sent <= len);
    if (rc == 0) return @intCast(sent);
    assert(rc == -1);
    const err = sys.fail();
    if (err == error.INPROGRESS and sent > 0) return @intCast(sent);
    return err;
}

/// connectx with no data and RESUME_ON_READ_WRITE: the SYN leaves with the
/// first write (the kernel succeeds here, even non-blocking).
pub fn fastopen_lazy(fd: i32, sa: *const anyopaque, sa_len: u32) Error!void {
    assert(fd >= 0);
    force_enable(fd);
    const endpoints = endpoints_for(sa, sa_len);
    const flags = CONNECT_RESUME_ON_READ_WRITE | CONNECT_DATA_IDEMPOTENT;
    try sys.check(connectx(fd, &endpoints, SAE_ASSOCID_ANY, flags, null, 0, null, null));
}

/// Server side: TCP_FASTOPEN 1/0. Darwin takes an on/off value, not a queue
/// length, and only on a socket already in TCPS_LISTEN: call after listen()
/// (EINVAL before). ENOTSUP (server TFO off in net.inet.tcp.fastopen) is
/// reported as EOPNOTSUPP. No FORCE_ENABLE here: the kernel takes it only in
/// TCPS_CLOSED.
pub fn fastopen_listen(fd: i32, queue_length: u32) Error!void {
    assert(fd >= 0);
    const on: c_int = @intFromBool(queue_length > 0);
    sys.set_int_option(fd, sys.IPPROTO_TCP, TCP_FASTOPEN, on) catch |err| {
        return if (err == error.NOTSUP) error.OPNOTSUPP else err;
    };
}

/// Darwin has no per-listener TFO key.
pub fn fastopen_key(fd: i32, key: [*]const u8, len: u32) Error!void {
    assert(fd >= 0);
    assert(len == 16 or len == 32);
    _ = key;
    return error.OPNOTSUPP;
}

/// Darwin has no per-listener TFO key to read.
pub fn fastopen_key_get(fd: i32, out: *[32]u8) Error!u32 {
    assert(fd >= 0);
    _ = out;
    return error.OPNOTSUPP;
}

/// Darwin has no no-cookie mode.
pub fn fastopen_no_cookie(fd: i32) Error!void {
    assert(fd >= 0);
    return error.OPNOTSUPP;
}

/// The head of `struct tcp_connection_info` (<netinet/tcp.h>) up to the TFO
/// bit-field, which is a u32 right after four u8 fields and twelve u32 fields.
const ConnectionInfoHead = extern struct {
    state: u8,
    snd_wscale: u8,
    rcv_wscale: u8,
    pad1: u8,
    options: u32,
    flags: u32,
    rto: u32,
    maxseg: u32,
    snd_ssthresh: u32,
    snd_cwnd: u32,
    snd_wnd: u32,
    snd_sbbytes: u32,
    rcv_wnd: u32,
    rttcur: u32,
    srtt: u32,
    rttvar: u32,
    tfo_bits: u32,
};

const tfo_bits_offset = @offsetOf(ConnectionInfoHead, "tfo_bits");

comptime {
    assert(tfo_bits_offset == 52);
    assert(@sizeOf(ConnectionInfoHead) == 56);
}

// The TFO bit-field, first-declared member in the least significant bit
// (clang on little-endian x86_64 and arm64).
const tfo_cookie_req: u32 = 1 << 0;
const tfo_cookie_rcv: u32 = 1 << 1;
const tfo_syn_loss: u32 = 1 << 2;
const tfo_syn_data_sent: u32 = 1 << 3;
const tfo_syn_data_acked: u32 = 1 << 4;
const tfo_syn_data_rcv: u32 = 1 << 5;
const tfo_cookie_req_rcv: u32 = 1 << 6;
const tfo_cookie_sent: u32 = 1 << 7;
const tfo_cookie_invalid: u32 = 1 << 8;
const tfo_cookie_wrong: u32 = 1 << 9;
const tfo_no_cookie_rcv: u32 = 1 << 10;
const tfo_heuristics_disable: u32 = 1 << 11;
const tfo_send_blackhole: u32 = 1 << 12;
const tfo_recv_blackhole: u32 = 1 << 13;
const tfo_onebyte_proxy: u32 = 1 << 14;

/// What `fd` has sent (bytes, data segments): this platform's report does
/// not say how many bytes rode in the SYN, so error.OPNOTSUPP.
pub fn sent_counts(fd: i32) Error![2]u32 {
    assert(fd >= 0);
    return error.OPNOTSUPP;
}

/// Reads the TFO outcome from TCP_CONNECTION_INFO.
pub fn fastopen_status(fd: i32) Error!status.Status {
    assert(fd >= 0);
    var info: [256]u8 = @splat(0);
    var len: sys.socklen_t = info.len;
    try sys.check(sys.getsockopt(fd, sys.IPPROTO_TCP, TCP_CONNECTION_INFO, &info, &len));
    if (len < @sizeOf(ConnectionInfoHead)) return error.IO;
    return decode_connection_info(info[0], std.mem.readInt(u32, info[tfo_bits_offset..][0..4], .little));
}

fn decode_connection_info(state: u8, bits: u32) status.Status {
    const received = bits & tfo_syn_data_rcv != 0;
    const acked = bits & tfo_syn_data_acked != 0 or received;
    const sent = bits & tfo_syn_data_sent != 0 or acked;
    const reason: status.Reason = if (acked)
        .none
    else if (bits & (tfo_heuristics_disable | tfo_send_blackhole) != 0)
        .blackhole
    else if (bits & tfo_syn_loss != 0)
        .syn_retransmitted
    else if (sent and state >= TCPS_ESTABLISHED)
        .data_not_acked
    else if (!sent and bits & tfo_cookie_req != 0)
        .no_cookie
    else
        .none;
    return .{
        .known = true,
        .sent = sent,
        .acked = acked,
        .established = state >= TCPS_ESTABLISHED,
        .reason = reason,
        .state = state,
    };
}

test "decode_connection_info" {
    const acked = decode_connection_info(TCPS_ESTABLISHED, tfo_syn_data_sent | tfo_syn_data_acked);
    try std.testing.expect(acked.sent and acked.acked and acked.established);
    const cookie = decode_connection_info(TCPS_ESTABLISHED, tfo_cookie_req | tfo_cookie_rcv);
    try std.testing.expectEqual(status.Reason.no_cookie, cookie.reason);
    try std.testing.expect(!cookie.sent);
    const lost = decode_connection_info(TCPS_ESTABLISHED, tfo_syn_data_sent | tfo_syn_loss);
    try std.testing.expect(lost.sent and !lost.acked);
    try std.testing.expectEqual(status.Reason.syn_retransmitted, lost.reason);
    const server = decode_connection_info(TCPS_ESTABLISHED, tfo_syn_data_rcv | tfo_cookie_sent);
    try std.testing.expect(server.sent and server.acked);
}

test "tcp_connection_info TFO bit positions" {
    // tcpi_tfo_onebyte_proxy is the 15th one-bit field; 17 bits of padding follow.
    try std.testing.expectEqual(@as(u32, 0x4000), tfo_onebyte_proxy);
    try std.testing.expectEqual(@as(u32, 0x7fff), tfo_cookie_req | tfo_cookie_rcv | tfo_syn_loss |
        tfo_syn_data_sent | tfo_syn_data_acked | tfo_syn_data_rcv | tfo_cookie_req_rcv |
        tfo_cookie_sent | tfo_cookie_invalid | tfo_cookie_wrong | tfo_no_cookie_rcv |
        tfo_heuristics_disable | tfo_send_blackhole | tfo_recv_blackhole | tfo_onebyte_proxy);
}
