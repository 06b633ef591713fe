//! macOS branch: `connectx()` with `CONNECT_DATA_IDEMPOTENT` for data in the
//! SYN (`CONNECT_RESUME_ON_READ_WRITE` for the lazy form), `TCP_FASTOPEN_FORCE_ENABLE`
//! set first so Darwin's TFO heuristics do not silently turn TFO off, and
//! `TCP_CONNECTION_INFO` for the per-connection report.
const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const status = @import("status.zig");

pub const name = "darwin";
pub const has_sa_len = true;

pub const AF_INET: c_int = 2;
pub const AF_INET6: c_int = 30;
pub const SOL_SOCKET: c_int = 0xffff;
pub const SO_ERROR: c_int = 0x1007;
const SO_NOSIGPIPE: c_int = 0x1022;
pub const IPV6_V6ONLY: c_int = 27;
pub const O_NONBLOCK: c_int = 0x4;
/// Darwin has no MSG_NOSIGNAL: sockets get SO_NOSIGPIPE instead.
pub const MSG_NOSIGNAL: c_int = 0;
const TCP_FASTOPEN: c_int = 0x105;
const TCP_CONNECTION_INFO: c_int = 0x106;
const TCP_FASTOPEN_FORCE_ENABLE: c_int = 0x218;
const CONNECT_RESUME_ON_READ_WRITE: c_uint = 0x1;
const CONNECT_DATA_IDEMPOTENT: c_uint = 0x2;
const SAE_ASSOCID_ANY: u32 = 0;

/// The errno values the library acts on.
pub const E = struct {
    pub const IO: i32 = 5;
    pub const INTR: i32 = 4;
    pub const BADF: i32 = 9;
    pub const AGAIN: i32 = 35;
    pub const INVAL: i32 = 22;
    pub const PIPE: i32 = 32;
    pub const INPROGRESS: i32 = 36;
    pub const ALREADY: i32 = 37;
    pub const NOTSOCK: i32 = 38;
    pub const NOPROTOOPT: i32 = 42;
    pub const AFNOSUPPORT: i32 = 47;
    pub const ISCONN: i32 = 56;
    pub const NOTCONN: i32 = 57;
    pub const CONNREFUSED: i32 = 61;
    pub const OPNOTSUPP: i32 = 102;
};

extern "c" fn __error() *c_int;

pub fn errno_location() *c_int {
    return __error();
}

/// `sa_endpoints_t` from <sys/socket.h>.
const Endpoints = extern struct {
    srcif: c_uint,
    srcaddr: ?*const anyopaque,
    srcaddrlen: sys.socklen_t,
    dstaddr: ?*const anyopaque,
    dstaddrlen: sys.socklen_t,
};

/// `struct iovec`.
const IoVec = extern struct {
    base: ?*const anyopaque,
    len: usize,
};

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

/// SO_NOSIGPIPE: a write to a closed peer returns EPIPE instead of raising SIGPIPE.
pub fn prepare_socket(fd: i32) i32 {
    assert(fd >= 0);
    return sys.set_int_option(fd, SOL_SOCKET, SO_NOSIGPIPE, 1);
}

/// Keeps Darwin's TFO heuristics from disabling TFO after losses. Best effort:
/// older kernels lack the option, and TFO then works as the system decides.
fn force_enable(fd: i32) void {
    _ = sys.set_int_option(fd, sys.IPPROTO_TCP, TCP_FASTOPEN_FORCE_ENABLE, 1);
}

/// connectx with the data: bytes queued (>= 0) or `-errno`. A non-blocking
/// connect in progress that queued data reports the bytes queued.
pub fn fastopen_connect(fd: i32, sa: *const anyopaque, sa_len: u32, buf: [*]const u8, len: u32) i32 {
    assert(fd >= 0);
    force_enable(fd);
    const endpoints = Endpoints{ .srcif = 0, .srcaddr = null, .srcaddrlen = 0, .dstaddr = sa, .dstaddrlen = sa_len };
    const iov = [_]IoVec{.{ .base = buf, .len = len }};
    var sent: usize = 0;
    const rc = connectx(fd, &endpoints, SAE_ASSOCID_ANY, CONNECT_DATA_IDEMPOTENT, &iov, if (len == 0) 0 else 1, &sent, null);
    assert(sent <= len);
    if (rc == 0) return @intCast(sent);
    const e = sys.errno();
    if (e == E.INPROGRESS and sent > 0) return @intCast(sent);
    return -e;
}

/// connectx with no data and RESUME_ON_READ_WRITE: the SYN leaves with the first write.
pub fn fastopen_lazy(fd: i32, sa: *const anyopaque, sa_len: u32) i32 {
    assert(fd >= 0);
    force_enable(fd);
    const endpoints = Endpoints{ .srcif = 0, .srcaddr = null, .srcaddrlen = 0, .dstaddr = sa, .dstaddrlen = sa_len };
    const flags = CONNECT_RESUME_ON_READ_WRITE | CONNECT_DATA_IDEMPOTENT;
    return sys.check(connectx(fd, &endpoints, SAE_ASSOCID_ANY, flags, null, 0, null, null));
}

/// Server side: FORCE_ENABLE, then TCP_FASTOPEN (Darwin takes an on/off value,
/// not a queue length; a zero length turns it off).
pub fn fastopen_listen(fd: i32, queue_length: u32) i32 {
    assert(fd >= 0);
    force_enable(fd);
    return sys.set_int_option(fd, sys.IPPROTO_TCP, TCP_FASTOPEN, @intFromBool(queue_length > 0));
}

/// Darwin has no no-cookie mode.
pub fn fastopen_no_cookie(fd: i32) i32 {
    assert(fd >= 0);
    return -E.OPNOTSUPP;
}

/// The TFO bits of `struct tcp_connection_info`: a u32 bit-field after
/// 4 bytes of u8 fields and 12 u32 fields.
const tfo_bits_offset = 52;
const tfo_syn_loss: u32 = 1 << 2;
const tfo_syn_data_sent: u32 = 1 << 3;
const tfo_syn_data_acked: u32 = 1 << 4;
const tfo_syn_data_rcv: u32 = 1 << 5;
const tfo_cookie_rcv: u32 = 1 << 1;
const tfo_cookie_req: u32 = 1 << 0;
const tfo_heuristics_disable: u32 = 1 << 11;
const tfo_send_blackhole: u32 = 1 << 12;
const TCPS_ESTABLISHED: u8 = 4;

/// Reads the TFO outcome from TCP_CONNECTION_INFO, encoded by `status.encode`.
pub fn fastopen_status(fd: i32) i32 {
    assert(fd >= 0);
    var info: [256]u8 = @splat(0);
    var len: sys.socklen_t = info.len;
    if (sys.getsockopt(fd, sys.IPPROTO_TCP, TCP_CONNECTION_INFO, &info, &len) == -1) return sys.fail();
    if (len < tfo_bits_offset + 4) return -E.IO;
    return decode_connection_info(info[0], std.mem.readInt(u32, info[tfo_bits_offset..][0..4], .little));
}

fn decode_connection_info(state: u8, bits: u32) i32 {
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
    return status.encode(.{
        .known = true,
        .sent = sent,
        .acked = acked,
        .established = state >= TCPS_ESTABLISHED,
        .reason = reason,
        .state = state,
    });
}

test "decode_connection_info" {
    const acked = status.decode(decode_connection_info(TCPS_ESTABLISHED, tfo_syn_data_sent | tfo_syn_data_acked));
    try std.testing.expect(acked.sent and acked.acked and acked.established);
    const cookie = status.decode(decode_connection_info(TCPS_ESTABLISHED, tfo_cookie_req | tfo_cookie_rcv));
    try std.testing.expectEqual(status.Reason.no_cookie, cookie.reason);
}
