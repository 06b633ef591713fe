//! libfastopen's C ABI: libowfat-style TCP Fast Open for Bun's FFI.
//!
//! Conventions of every export:
//! - results are `i32`: >= 0 on success, `-errno` on failure (errno is
//!   captured here, never read by the caller);
//! - addresses are `[16]u8` (IPv6, IPv4 as `::ffff:a.b.c.d`) or `[4]u8`,
//!   ports in host order, scope ids as `u32`;
//! - pointers are only read or written during the call, never kept;
//! - arguments out of range give -EBADF (fd) or -EINVAL, never a crash.
const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const errno = @import("errno.zig");
const addr = @import("addr.zig");
const socket = @import("socket.zig");
const policy = @import("policy.zig");
const status = @import("status.zig");
const platform = sys.platform;
const E = platform.E;
const Error = errno.Error;

/// Message to fd 2, then trap: no stack-trace code (and its libc symbols) in the library.
pub const panic = @import("panic.zig").handler;

// The C ABI edge. Each export checks its arguments one after the other (the
// first bad one is the result), then calls into the library, whose failures
// are `Error`s; `code` and `result` turn them into `-errno` here and nowhere
// else.

/// Largest byte count one call accepts (the i32 result must hold it).
const max_len: u32 = std.math.maxInt(i32);

/// error.BADF for an fd that cannot be one.
fn check_fd(fd: i32) Error!void {
    if (fd < 0) return error.BADF;
}

/// The port as a u16; error.INVAL outside 0..65535.
fn check_port(port: u32) Error!u16 {
    if (port > 65535) return error.INVAL;
    return @intCast(port);
}

/// error.INVAL for a byte count beyond `max_len`.
fn check_len(len: u32) Error!void {
    if (len > max_len) return error.INVAL;
}

/// `-errno` for `err`: the C ABI's failure result (always < 0).
fn code(err: Error) i32 {
    const number: i32 = errno.number(err);
    assert(number > 0);
    return -number;
}

/// The C ABI result of a library call: its value (void as 0, a bool as 0 or
/// 1, a count or fd as itself, >= 0), or `-errno`.
fn result(outcome: anytype) i32 {
    const value = outcome catch |err| return code(err);
    const T = @TypeOf(value);
    if (T == void) return 0;
    if (T == bool) return @intFromBool(value);
    assert(value >= 0);
    assert(value <= std.math.maxInt(i32));
    return @intCast(value);
}

/// ABI revision: bumped whenever an export changes shape.
export fn fo_abi_version() i32 {
    return 2;
}

/// Non-blocking IPv6 TCP socket (accepts v4-mapped peers): fd or -errno.
export fn fo_socket_tcp6() i32 {
    return result(socket.open(platform.AF_INET6, .{ .blocking = false, .dual_stack = true }));
}

/// Blocking IPv6 TCP socket: fd or -errno.
export fn fo_socket_tcp6b() i32 {
    return result(socket.open(platform.AF_INET6, .{ .blocking = true, .dual_stack = true }));
}

/// Non-blocking IPv4 TCP socket: fd or -errno.
export fn fo_socket_tcp4() i32 {
    return result(socket.open(platform.AF_INET, .{ .blocking = false, .dual_stack = false }));
}

/// Blocking IPv4 TCP socket: fd or -errno.
export fn fo_socket_tcp4b() i32 {
    return result(socket.open(platform.AF_INET, .{ .blocking = true, .dual_stack = false }));
}

/// Binds `fd` to `[ip]:port` (scope id for link-local). 0 or -errno.
export fn fo_socket_bind6(fd: i32, ip: *const [16]u8, port: u32, scope_id: u32) i32 {
    return result(bind(fd, ip, port, scope_id));
}

/// Binds `fd` to `ip:port`. 0 or -errno.
export fn fo_socket_bind4(fd: i32, ip: *const [4]u8, port: u32) i32 {
    return result(bind(fd, &addr.v4_mapped(ip.*), port, 0));
}

/// bind6/bind4: the fd, then the port, then the bind.
fn bind(fd: i32, ip: *const [16]u8, port: u32, scope_id: u32) Error!void {
    try check_fd(fd);
    try socket.bind(fd, ip, try check_port(port), scope_id);
}

/// Plain connect to `[ip]:port`. 0 or -errno (-EINPROGRESS when non-blocking).
export fn fo_socket_connect6(fd: i32, ip: *const [16]u8, port: u32, scope_id: u32) i32 {
    return result(connect(fd, ip, port, scope_id));
}

/// Plain connect to `ip:port`. 0 or -errno.
export fn fo_socket_connect4(fd: i32, ip: *const [4]u8, port: u32) i32 {
    return result(connect(fd, &addr.v4_mapped(ip.*), port, 0));
}

/// connect6/connect4: the fd, then the port, then the connect.
fn connect(fd: i32, ip: *const [16]u8, port: u32, scope_id: u32) Error!void {
    try check_fd(fd);
    try socket.connect(fd, ip, try check_port(port), scope_id);
}

/// libowfat's socket_fastopen_connect6: connect with `buf[0..len]` in the SYN.
/// Bytes sent (>= 0) or -errno; -EINPROGRESS means nothing was sent yet.
export fn fo_socket_fastopen_connect6(
    fd: i32,
    ip: *const [16]u8,
    port: u32,
    scope_id: u32,
    buf: [*]const u8,
    len: u32,
) i32 {
    return result(fastopen_connect(fd, ip, port, scope_id, buf, len));
}

/// libowfat's socket_fastopen_connect4.
export fn fo_socket_fastopen_connect4(fd: i32, ip: *const [4]u8, port: u32, buf: [*]const u8, len: u32) i32 {
    return result(fastopen_connect(fd, &addr.v4_mapped(ip.*), port, 0, buf, len));
}

/// fastopen_connect6/4: the fd, then the port, then the length, then the TFO connect.
fn fastopen_connect(fd: i32, ip: *const [16]u8, port: u32, scope_id: u32, buf: [*]const u8, len: u32) Error!u32 {
    try check_fd(fd);
    const port16 = try check_port(port);
    try check_len(len);
    return policy.fastopen_connect(fd, ip, port16, scope_id, buf, len);
}

/// Lazy TFO connect: the SYN leaves with the first write. 0 or -errno.
export fn fo_socket_fastopen_lazy6(fd: i32, ip: *const [16]u8, port: u32, scope_id: u32) i32 {
    return result(fastopen_lazy(fd, ip, port, scope_id));
}

/// fastopen_lazy6: the fd, then the port, then the lazy connect.
fn fastopen_lazy(fd: i32, ip: *const [16]u8, port: u32, scope_id: u32) Error!void {
    try check_fd(fd);
    try policy.fastopen_lazy(fd, ip, try check_port(port), scope_id);
}

/// 1 connected, 0 still connecting, -errno when the connect failed.
export fn fo_socket_connected(fd: i32) i32 {
    check_fd(fd) catch |err| return code(err);
    return result(socket.connected(fd));
}

/// Enables server-side TFO on `fd` with a queue of `queue_length` pending requests.
export fn fo_socket_fastopen(fd: i32, queue_length: u32) i32 {
    return result(fastopen_listen(fd, queue_length));
}

/// fo_socket_fastopen: the fd, then the queue length (a C int), then the option.
fn fastopen_listen(fd: i32, queue_length: u32) Error!void {
    try check_fd(fd);
    if (queue_length > std.math.maxInt(c_int)) return error.INVAL;
    try platform.fastopen_listen(fd, queue_length);
}

/// Lets `fd` send SYN data without a cookie (Linux TCP_FASTOPEN_NO_COOKIE).
export fn fo_socket_fastopen_no_cookie(fd: i32) i32 {
    check_fd(fd) catch |err| return code(err);
    return result(platform.fastopen_no_cookie(fd));
}

/// Sets the TFO cookie key of listener `fd` (Linux TCP_FASTOPEN_KEY):
/// `len` 16 (a primary key) or 32 (primary, then a backup still accepted).
export fn fo_socket_fastopen_key(fd: i32, key: [*]const u8, len: u32) i32 {
    return result(fastopen_key(fd, key, len));
}

/// fo_socket_fastopen_key: the fd, then the length (16 or 32), then the option.
fn fastopen_key(fd: i32, key: [*]const u8, len: u32) Error!void {
    try check_fd(fd);
    if (len != 16 and len != 32) return error.INVAL;
    try platform.fastopen_key(fd, key, len);
}

/// The TFO keys `fd` has of its own into `out`: 16, 32 or 0 bytes (the count), or -errno.
export fn fo_socket_fastopen_key_get(fd: i32, out: *[32]u8) i32 {
    check_fd(fd) catch |err| return code(err);
    return result(platform.fastopen_key_get(fd, out));
}

/// listen(2). 0 or -errno.
export fn fo_socket_listen(fd: i32, backlog: u32) i32 {
    check_fd(fd) catch |err| return code(err);
    return result(socket.listen(fd, backlog));
}

/// Accepts a connection: new fd or -errno. The peer's address goes to `ip`
/// and `meta[0]` = port, `meta[1]` = scope id.
export fn fo_socket_accept6(fd: i32, ip: *[16]u8, meta: *[2]u32) i32 {
    check_fd(fd) catch |err| return code(err);
    const accepted = socket.accept(fd) catch |err| return code(err);
    write_endpoint(&accepted.peer, ip, meta);
    return accepted.fd;
}

/// Local address of `fd` into `ip`, `meta` (port, scope id). 0 or -errno.
export fn fo_socket_local6(fd: i32, ip: *[16]u8, meta: *[2]u32) i32 {
    return result(endpoint(fd, false, ip, meta));
}

/// Peer address of `fd` into `ip`, `meta` (port, scope id). 0 or -errno.
export fn fo_socket_remote6(fd: i32, ip: *[16]u8, meta: *[2]u32) i32 {
    return result(endpoint(fd, true, ip, meta));
}

/// local6/remote6: the fd, then the address, written only on success.
fn endpoint(fd: i32, remote: bool, ip: *[16]u8, meta: *[2]u32) Error!void {
    try check_fd(fd);
    write_endpoint(&try socket.endpoint(fd, remote), ip, meta);
}

/// Copies an endpoint into the caller's `ip` and `meta` (port, scope id).
fn write_endpoint(ep: *const addr.Endpoint, ip: *[16]u8, meta: *[2]u32) void {
    ip.* = ep.ip;
    meta.* = .{ ep.port, ep.scope_id };
}

/// send(2) without SIGPIPE: bytes sent or -errno.
export fn fo_socket_send(fd: i32, buf: [*]const u8, len: u32) i32 {
    return result(send(fd, buf, len));
}

/// send: the fd, then the length, then send(2).
fn send(fd: i32, buf: [*]const u8, len: u32) Error!u32 {
    try check_fd(fd);
    try check_len(len);
    return socket.send(fd, buf, len);
}

/// recv(2): bytes read, 0 at end of stream, or -errno.
export fn fo_socket_recv(fd: i32, buf: [*]u8, len: u32) i32 {
    return result(recv(fd, buf, len));
}

/// recv: the fd, then the length, then recv(2).
fn recv(fd: i32, buf: [*]u8, len: u32) Error!u32 {
    try check_fd(fd);
    try check_len(len);
    return socket.recv(fd, buf, len);
}

/// Waits up to `timeout_ms` (-1: forever) for `events` (POLLIN 1, POLLOUT 4)
/// on `fd`: the events that occurred, 0 on timeout, or -errno.
export fn fo_socket_poll(fd: i32, events: u32, timeout_ms: i32) i32 {
    return result(poll(fd, events, timeout_ms));
}

/// poll: the fd, then the events (an i16 mask), then poll(2).
fn poll(fd: i32, events: u32, timeout_ms: i32) Error!u16 {
    try check_fd(fd);
    if (events > 0x7fff) return error.INVAL;
    return socket.poll(fd, @intCast(events), timeout_ms);
}

/// shutdown(SHUT_WR). 0 or -errno.
export fn fo_socket_shutdown_write(fd: i32) i32 {
    check_fd(fd) catch |err| return code(err);
    return result(socket.shutdown_write(fd));
}

/// close(2). 0 or -errno.
export fn fo_socket_close(fd: i32) i32 {
    check_fd(fd) catch |err| return code(err);
    return result(socket.close(fd));
}

/// One call for the start of a non-blocking connect: a new socket of
/// `family` (4: AF_INET, `ip` v4-mapped; 6: AF_INET6), then the connect in
/// `mode` (0 plain, 1 `buf[0..len]` in the SYN, 2 lazy TFO). Returns the
/// fd (>= 0) with `out[0]` = the connect's result (bytes queued, or
/// -EINPROGRESS) and `out[1]` = 1 when the platform refused TFO (plain path
/// taken); or -errno with `out[0]` = the failed stage (0 socket, 1 connect)
/// and no fd left open.
export fn fo_connect_start(
    ip: *const [16]u8,
    port: u32,
    scope_id: u32,
    family: u32,
    mode: u32,
    buf: [*]const u8,
    len: u32,
    out: *[2]i32,
) i32 {
    out.* = .{ 0, 0 };
    var stage: policy.Stage = .socket;
    const started = connect_start(ip, port, scope_id, family, mode, buf, len, &stage) catch |err| {
        out[0] = @backingInt(stage);
        return code(err);
    };
    const queued: i32 = if (started.queued) |n| @intCast(n) else code(error.INPROGRESS);
    out.* = .{ queued, @intFromBool(started.refused) };
    return started.fd;
}

/// fo_connect_start's checks (port 1..65535, length, mode, family), then `policy.start`.
fn connect_start(
    ip: *const [16]u8,
    port: u32,
    scope_id: u32,
    family: u32,
    mode: u32,
    buf: [*]const u8,
    len: u32,
    stage: *policy.Stage,
) Error!policy.Started {
    if (port == 0) return error.INVAL;
    const port16 = try check_port(port);
    try check_len(len);
    if (mode > 2) return error.INVAL;
    if (family != 4 and family != 6) return error.INVAL;
    const start_mode: policy.Mode = @fromBackingInt(mode);
    return policy.start(ip, port16, scope_id, family == 4, start_mode, buf, len, stage);
}

/// The TFO outcome of a connection, packed as described in status.zig, or -errno.
export fn fo_fastopen_status(fd: i32) i32 {
    check_fd(fd) catch |err| return code(err);
    const report = platform.fastopen_status(fd) catch |err| return code(err);
    return status.encode(report);
}

/// What `fd` has sent, from the platform's TCP report: `out[0]` payload
/// bytes (retransmissions included, at most 2^32-1), `out[1]` data segments
/// (a SYN with data counts as one). 0, or -errno (-EOPNOTSUPP where the
/// platform does not say), with `out` zeroed.
export fn fo_fastopen_sent(fd: i32, out: *[2]u32) i32 {
    out.* = .{ 0, 0 };
    check_fd(fd) catch |err| return code(err);
    out.* = platform.sent_counts(fd) catch |err| return code(err);
    return 0;
}

/// 1 while a refusal of TFO by the platform is remembered (connects take the plain path).
export fn fo_fastopen_refused() i32 {
    return @intFromBool(policy.refused());
}

/// Milliseconds the remembered refusal still holds (TFO is tried again after), 0 when none is.
export fn fo_fastopen_refused_ms() i32 {
    return @intCast(policy.refused_for_ms());
}

/// Forgets an earlier refusal so the next connect tries TFO again.
export fn fo_fastopen_reset() i32 {
    policy.reset();
    return 0;
}

test {
    _ = addr;
    _ = errno;
    _ = status;
    _ = sys.platform;
    _ = socket;
    _ = policy;
}

test "negative fd and bad port are refused before any syscall" {
    const ip: [16]u8 = @splat(0);
    const buf = [_]u8{0};
    try std.testing.expectEqual(-E.BADF, fo_socket_fastopen_connect6(-1, &ip, 80, 0, &buf, 1));
    try std.testing.expectEqual(-E.INVAL, fo_socket_fastopen_connect6(0, &ip, 65536, 0, &buf, 1));
    try std.testing.expectEqual(-E.INVAL, fo_socket_send(0, &buf, 0x8000_0000));
    try std.testing.expectEqual(-E.BADF, fo_socket_close(-5));
}

test "two bad arguments give the first check's errno, not their sum" {
    const ip: [16]u8 = @splat(0);
    const ip4: [4]u8 = @splat(0);
    const buf = [_]u8{0};
    var out: [1]u8 = undefined;
    const too_long: u32 = 0x8000_0000;
    try std.testing.expectEqual(-E.BADF, fo_socket_bind6(-1, &ip, 70000, 0));
    try std.testing.expectEqual(-E.BADF, fo_socket_bind4(-1, &ip4, 70000));
    try std.testing.expectEqual(-E.BADF, fo_socket_connect6(-1, &ip, 70000, 0));
    try std.testing.expectEqual(-E.BADF, fo_socket_connect4(-1, &ip4, 70000));
    try std.testing.expectEqual(-E.BADF, fo_socket_fastopen_connect6(-1, &ip, 70000, 0, &buf, too_long));
    try std.testing.expectEqual(-E.BADF, fo_socket_fastopen_connect4(-1, &ip4, 70000, &buf, too_long));
    try std.testing.expectEqual(-E.BADF, fo_socket_fastopen_lazy6(-1, &ip, 70000, 0));
    try std.testing.expectEqual(-E.BADF, fo_socket_send(-1, &buf, too_long));
    try std.testing.expectEqual(-E.BADF, fo_socket_recv(-1, &out, too_long));
}

test "fo_socket_fastopen_key: fd, then the length, before any syscall" {
    const key: [32]u8 = @splat(7);
    var out: [32]u8 = undefined;
    try std.testing.expectEqual(-E.BADF, fo_socket_fastopen_key(-1, &key, 15));
    try std.testing.expectEqual(-E.INVAL, fo_socket_fastopen_key(0, &key, 0));
    try std.testing.expectEqual(-E.INVAL, fo_socket_fastopen_key(0, &key, 17));
    try std.testing.expectEqual(-E.INVAL, fo_socket_fastopen_key(0, &key, 33));
    try std.testing.expectEqual(-E.BADF, fo_socket_fastopen_key_get(-1, &out));
}

test "fo_socket_fastopen_key: a listener keeps the primary and backup it was given" {
    const fd = fo_socket_tcp6();
    try std.testing.expect(fd >= 0);
    defer _ = fo_socket_close(fd);
    var key: [32]u8 = undefined;
    for (&key, 0..) |*byte, i| byte.* = @intCast(i + 1);
    var out: [32]u8 = @splat(0);
    if (!std.mem.eql(u8, sys.platform.name, "linux")) {
        try std.testing.expectEqual(-E.OPNOTSUPP, fo_socket_fastopen_key(fd, &key, 32));
        try std.testing.expectEqual(-E.OPNOTSUPP, fo_socket_fastopen_key_get(fd, &out));
        return;
    }
    try std.testing.expectEqual(@as(i32, 0), fo_socket_fastopen_key(fd, &key, 32));
    try std.testing.expectEqual(@as(i32, 32), fo_socket_fastopen_key_get(fd, &out));
    try std.testing.expectEqualSlices(u8, &key, &out);
    try std.testing.expectEqual(@as(i32, 0), fo_socket_fastopen_key(fd, &key, 16));
    out = @splat(0);
    try std.testing.expectEqual(@as(i32, 16), fo_socket_fastopen_key_get(fd, &out));
    try std.testing.expectEqualSlices(u8, key[0..16], out[0..16]);
}

test "socket, bind, listen, local address on loopback" {
    const fd = fo_socket_tcp6();
    try std.testing.expect(fd >= 0);
    defer _ = fo_socket_close(fd);
    var loopback: [16]u8 = @splat(0);
    loopback[15] = 1;
    try std.testing.expectEqual(@as(i32, 0), fo_socket_bind6(fd, &loopback, 0, 0));
    try std.testing.expectEqual(@as(i32, 0), fo_socket_listen(fd, 16));
    var ip: [16]u8 = undefined;
    var meta: [2]u32 = undefined;
    try std.testing.expectEqual(@as(i32, 0), fo_socket_local6(fd, &ip, &meta));
    try std.testing.expectEqualSlices(u8, &loopback, &ip);
    try std.testing.expect(meta[0] > 0);
}

test "fo_connect_start refuses bad input before any syscall" {
    const ip: [16]u8 = @splat(0);
    const buf = [_]u8{0};
    var out: [2]i32 = .{ 7, 7 };
    try std.testing.expectEqual(-E.INVAL, fo_connect_start(&ip, 0, 0, 6, 1, &buf, 1, &out));
    try std.testing.expectEqual(-E.INVAL, fo_connect_start(&ip, 65536, 0, 6, 1, &buf, 1, &out));
    try std.testing.expectEqual(-E.INVAL, fo_connect_start(&ip, 80, 0, 6, 3, &buf, 1, &out));
    try std.testing.expectEqual(-E.INVAL, fo_connect_start(&ip, 80, 0, 5, 1, &buf, 1, &out));
    try std.testing.expectEqual(-E.INVAL, fo_connect_start(&ip, 80, 0, 6, 1, &buf, 0x8000_0000, &out));
    try std.testing.expectEqual([2]i32{ 0, 0 }, out);
    // An IPv4 socket needs a v4-mapped address: refused before any socket exists.
    try std.testing.expectEqual(-E.AFNOSUPPORT, fo_connect_start(&ip, 80, 0, 4, 1, &buf, 1, &out));
    try std.testing.expectEqual([2]i32{ 0, 0 }, out);
}

test "non-blocking connect to a closed port reports the refusal" {
    const listener = fo_socket_tcp6();
    try std.testing.expect(listener >= 0);
    var loopback: [16]u8 = @splat(0);
    loopback[15] = 1;
    try std.testing.expectEqual(@as(i32, 0), fo_socket_bind6(listener, &loopback, 0, 0));
    var ip: [16]u8 = undefined;
    var meta: [2]u32 = undefined;
    try std.testing.expectEqual(@as(i32, 0), fo_socket_local6(listener, &ip, &meta));
    _ = fo_socket_close(listener); // bound, never listened: the port refuses

    const fd = fo_socket_tcp6();
    try std.testing.expect(fd >= 0);
    defer _ = fo_socket_close(fd);
    const buf = "hello";
    const rc = fo_socket_fastopen_connect6(fd, &loopback, meta[0], 0, buf, buf.len);
    if (rc == -E.CONNREFUSED) return; // refused at once
    try std.testing.expectEqual(-E.INPROGRESS, rc);
    try std.testing.expect(fo_socket_poll(fd, 4, 2000) > 0);
    try std.testing.expectEqual(-E.CONNREFUSED, fo_socket_connected(fd));
}
