//! Linux branch: `sendto(MSG_FASTOPEN)` for data in the SYN, `TCP_FASTOPEN_CONNECT`
//! for the lazy form, `TCP_INFO` for the per-connection report.
const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const status = @import("status.zig");
const errno = @import("errno.zig");
const Error = errno.Error;

pub const name = "linux";
pub const has_sa_len = false;

pub const AF_INET: c_int = 2;
pub const AF_INET6: c_int = 10;
pub const SOL_SOCKET: c_int = 1;
pub const SO_ERROR: c_int = 4;
pub const SO_TYPE: c_int = 3;
pub const IPV6_V6ONLY: c_int = 26;
/// socket(2) type flags; 0 where the platform lacks them (set with fcntl instead).
pub const SOCK_CLOEXEC: c_int = 0o2000000;
pub const SOCK_NONBLOCK: c_int = 0o4000;
pub const O_NONBLOCK: c_int = 0o4000;
pub const MSG_NOSIGNAL: c_int = 0x4000;
pub const CLOCK_MONOTONIC: c_int = 1;
const MSG_FASTOPEN: c_int = 0x20000000;
const TCP_INFO: c_int = 11;
const TCP_FASTOPEN: c_int = 23;
const TCP_FASTOPEN_CONNECT: c_int = 30;
const TCP_FASTOPEN_KEY: c_int = 33;
const TCP_FASTOPEN_NO_COOKIE: c_int = 34;
const TCPI_OPT_SYN_DATA: u8 = 32;

/// std.c.E's errno numbers are right for Linux.
pub const errno_fixes = [_]errno.Fix{};

/// The errno values the library acts on (<asm-generic/errno*.h>); errno.zig
/// checks them against its table.
pub const E = struct {
    pub const IO: i32 = 5;
    pub const INTR: i32 = 4;
    pub const BADF: i32 = 9;
    pub const AGAIN: i32 = 11;
    pub const INVAL: i32 = 22;
    pub const PIPE: i32 = 32;
    pub const NOTSOCK: i32 = 88;
    pub const PROTOTYPE: i32 = 91;
    pub const NOPROTOOPT: i32 = 92;
    pub const OPNOTSUPP: i32 = 95;
    pub const AFNOSUPPORT: i32 = 97;
    pub const ISCONN: i32 = 106;
    pub const NOTCONN: i32 = 107;
    pub const CONNREFUSED: i32 = 111;
    pub const ALREADY: i32 = 114;
    pub const INPROGRESS: i32 = 115;
};

extern "c" fn __errno_location() *c_int;

pub fn errno_location() *c_int {
    return __errno_location();
}

/// Nothing to do: every send passes MSG_NOSIGNAL.
pub fn prepare_socket(fd: i32) Error!void {
    assert(fd >= 0);
}

/// `sendto(MSG_FASTOPEN)`: connects and puts `buf` in the SYN when a cookie is
/// known. The bytes queued; a non-blocking socket without a cookie gives
/// error.INPROGRESS with nothing queued.
pub fn fastopen_connect(fd: i32, sa: *const anyopaque, sa_len: u32, buf: [*]const u8, len: u32) Error!u32 {
    assert(fd >= 0);
    const n = sys.sendto(fd, buf, len, MSG_FASTOPEN | MSG_NOSIGNAL, sa, sa_len);
    return sys.byte_count(n);
}

/// `TCP_FASTOPEN_CONNECT` + `connect`: the SYN waits for the first write when
/// a cookie is known. Succeeds when deferred or connected; error.INPROGRESS
/// when a plain SYN, carrying a cookie request, went out.
pub fn fastopen_lazy(fd: i32, sa: *const anyopaque, sa_len: u32) Error!void {
    assert(fd >= 0);
    try sys.set_int_option(fd, sys.IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1);
    try sys.check(sys.connect(fd, sa, sa_len));
}

/// Enables TFO on a listening socket with a pending-request queue of `queue_length`.
pub fn fastopen_listen(fd: i32, queue_length: u32) Error!void {
    assert(fd >= 0);
    assert(queue_length <= std.math.maxInt(c_int));
    try sys.set_int_option(fd, sys.IPPROTO_TCP, TCP_FASTOPEN, @intCast(queue_length));
}

/// `TCP_FASTOPEN_NO_COOKIE`: send SYN data without a cookie (the server must allow it).
pub fn fastopen_no_cookie(fd: i32) Error!void {
    assert(fd >= 0);
    try sys.set_int_option(fd, sys.IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, 1);
}

/// `TCP_FASTOPEN_KEY`: the listener's own cookie key, `key[0..16]` (the
/// primary, which issues cookies), optionally followed by `key[16..32]` (a
/// backup that is still accepted). Replaces the namespace's key for `fd`.
pub fn fastopen_key(fd: i32, key: [*]const u8, len: u32) Error!void {
    assert(fd >= 0);
    assert(len == 16 or len == 32);
    try sys.check(sys.setsockopt(fd, sys.IPPROTO_TCP, TCP_FASTOPEN_KEY, key, len));
}

/// The keys `fd` has of its own into `out`: the byte count, 16 (primary
/// only), 32 (primary, backup) or 0 (none: it uses the namespace's key,
/// which the kernel does not report here).
pub fn fastopen_key_get(fd: i32, out: *[32]u8) Error!u32 {
    assert(fd >= 0);
    var len: sys.socklen_t = out.len;
    try sys.check(sys.getsockopt(fd, sys.IPPROTO_TCP, TCP_FASTOPEN_KEY, out, &len));
    if (len != 0 and len != 16 and len != 32) return error.IO;
    return len;
}

/// `TCP_INFO` of `fd` into `info`: how many bytes of it the kernel filled.
fn tcp_info(fd: i32, info: *[256]u8) Error!usize {
    assert(fd >= 0);
    info.* = @splat(0);
    var len: sys.socklen_t = info.len;
    try sys.check(sys.getsockopt(fd, sys.IPPROTO_TCP, TCP_INFO, info, &len));
    assert(len <= info.len);
    return len;
}

/// Reads the TFO outcome of `fd` from `TCP_INFO`.
pub fn fastopen_status(fd: i32) Error!status.Status {
    assert(fd >= 0);
    var info: [256]u8 = undefined;
    if (try tcp_info(fd, &info) < 8) return error.IO;
    return decode_tcp_info(info[0..8]);
}

/// Offsets in `struct tcp_info` of tcpi_data_segs_out (u32, Linux 4.6) and
/// tcpi_bytes_sent (u64, Linux 4.19).
const tcpi_data_segs_out_offset = 156;
const tcpi_bytes_sent_offset = 200;

/// What `fd` has sent, from `TCP_INFO`: payload bytes (retransmissions
/// included, clamped to u32) and data segments (a SYN with data counts as
/// one). error.OPNOTSUPP on kernels before 4.19, whose report lacks them.
pub fn sent_counts(fd: i32) Error![2]u32 {
    assert(fd >= 0);
    var info: [256]u8 = undefined;
    if (try tcp_info(fd, &info) < tcpi_bytes_sent_offset + 8) return error.OPNOTSUPP;
    return decode_sent(info[0 .. tcpi_bytes_sent_offset + 8]);
}

fn decode_sent(info: []const u8) [2]u32 {
    assert(info.len >= tcpi_bytes_sent_offset + 8);
    const bytes = std.mem.readInt(u64, info[tcpi_bytes_sent_offset..][0..8], .little);
    const segments = std.mem.readInt(u32, info[tcpi_data_segs_out_offset..][0..4], .little);
    return .{ @intCast(@min(bytes, std.math.maxInt(u32))), segments };
}

/// Whether a Linux TCP state (include/net/tcp_states.h) comes after a
/// completed handshake. The numbering is not ordered by progress: TCP_CLOSE
/// (7, also a refused connect), TCP_LISTEN (10) and TCP_NEW_SYN_RECV (12)
/// follow the established states.
fn handshake_done(state: u8) bool {
    return switch (state) {
        // ESTABLISHED, FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE_WAIT, LAST_ACK, CLOSING
        1, 4, 5, 6, 8, 9, 11 => true,
        else => false,
    };
}

/// tcpi_state (byte 0), tcpi_options (byte 5) and the 2-bit
/// tcpi_fastopen_client_fail after delivery_rate_app_limited in byte 7.
fn decode_tcp_info(head: *const [8]u8) status.Status {
    const state = head[0];
    const acked = head[5] & TCPI_OPT_SYN_DATA != 0;
    const client_fail: u8 = (head[7] >> 1) & 0b11;
    const reason: status.Reason = switch (client_fail) {
        0 => .none,
        1 => .no_cookie,
        2 => .data_not_acked,
        3 => .syn_retransmitted,
        else => unreachable,
    };
    return .{
        .known = true,
        .sent = acked or reason == .data_not_acked or reason == .syn_retransmitted,
        .acked = acked,
        .established = handshake_done(state),
        .reason = reason,
        .state = state,
    };
}

test "decode_tcp_info: data acked" {
    const s = decode_tcp_info(&.{ 1, 0, 0, 0, 0, 39, 0x77, 1 });
    try std.testing.expect(s.known and s.sent and s.acked and s.established);
    try std.testing.expectEqual(status.Reason.none, s.reason);
}

test "decode_tcp_info: cookie unavailable" {
    const s = decode_tcp_info(&.{ 1, 0, 0, 0, 0, 7, 0x77, 3 });
    try std.testing.expect(!s.sent and !s.acked);
    try std.testing.expectEqual(status.Reason.no_cookie, s.reason);
}

test "decode_tcp_info: data not acked" {
    const s = decode_tcp_info(&.{ 1, 0, 0, 0, 0, 7, 0x77, 4 });
    try std.testing.expect(s.sent and !s.acked);
    try std.testing.expectEqual(status.Reason.data_not_acked, s.reason);
}

test "decode_tcp_info: a refused connect (TCP_CLOSE) or a listener is not established" {
    const refused = decode_tcp_info(&.{ 7, 0, 0, 0, 0, 0, 0x77, 2 });
    try std.testing.expect(!refused.established and !refused.sent);
    try std.testing.expectEqual(status.Reason.no_cookie, refused.reason);
    const listener = decode_tcp_info(&.{ 10, 0, 0, 0, 0, 0, 0, 0 });
    try std.testing.expect(!listener.established);
    const closing = decode_tcp_info(&.{ 8, 0, 0, 0, 0, 0, 0, 0 });
    try std.testing.expect(closing.established);
}

test "decode_sent: bytes and data segments at their offsets, bytes clamped" {
    var info: [208]u8 = @splat(0);
    std.mem.writeInt(u64, info[200..208], 1400, .little);
    std.mem.writeInt(u32, info[156..160], 1, .little);
    try std.testing.expectEqual([2]u32{ 1400, 1 }, decode_sent(&info));
    std.mem.writeInt(u64, info[200..208], 1 << 40, .little);
    try std.testing.expectEqual([2]u32{ std.math.maxInt(u32), 1 }, decode_sent(&info));
}
