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
const sys = @import("sys.zig");
const addr = @import("addr.zig");
const socket = @import("socket.zig");
const status = @import("status.zig");
const E = sys.platform.E;

/// Largest byte count one call accepts (the i32 result must hold it).
const max_len: u32 = std.math.maxInt(i32);

/// Returns -EBADF for an fd that cannot be one, else 0.
fn check_fd(fd: i32) i32 {
    return if (fd < 0) -E.BADF else 0;
}

/// Returns -EINVAL for a port outside 0..65535 or a length beyond `max_len`, else 0.
fn check_port_len(port: u32, len: u32) i32 {
    return if (port > 65535 or len > max_len) -E.INVAL else 0;
}

/// Checks the arguments one after the other: the first failure (-EBADF for
/// the fd, then -EINVAL for port or length), else 0. Never a sum of two
/// failures, which would be a third, unrelated errno.
fn check_fd_port_len(fd: i32, port: u32, len: u32) i32 {
    const bad_fd = check_fd(fd);
    if (bad_fd != 0) return bad_fd;
    return check_port_len(port, len);
}

/// ABI revision: bumped whenever an export changes shape.
export fn fo_abi_version() i32 {
    return 1;
}

/// Non-blocking IPv6 TCP socket (accepts v4-mapped peers): fd or -errno.
export fn fo_socket_tcp6() i32 {
    return socket.create(sys.platform.AF_INET6, false);
}

/// Blocking IPv6 TCP socket: fd or -errno.
export fn fo_socket_tcp6b() i32 {
    return socket.create(sys.platform.AF_INET6, true);
}

/// Non-blocking IPv4 TCP socket: fd or -errno.
export fn fo_socket_tcp4() i32 {
    return socket.create(sys.platform.AF_INET, false);
}

/// Blocking IPv4 TCP socket: fd or -errno.
export fn fo_socket_tcp4b() i32 {
    return socket.create(sys.platform.AF_INET, true);
}

/// Binds `fd` to `[ip]:port` (scope id for link-local). 0 or -errno.
export fn fo_socket_bind6(fd: i32, ip: *const [16]u8, port: u32, scope_id: u32) i32 {
    const bad = check_fd_port_len(fd, port, 0);
    if (bad != 0) return bad;
    return socket.bind(fd, ip, @intCast(port), scope_id);
}

/// Binds `fd` to `ip:port`. 0 or -errno.
export fn fo_socket_bind4(fd: i32, ip: *const [4]u8, port: u32) i32 {
    const bad = check_fd_port_len(fd, port, 0);
    if (bad != 0) return bad;
    return socket.bind(fd, &addr.v4_mapped(ip.*), @intCast(port), 0);
}

/// Plain connect to `[ip]:port`. 0 or -errno (-EINPROGRESS when non-blocking).
export fn fo_socket_connect6(fd: i32, ip: *const [16]u8, port: u32, scope_id: u32) i32 {
    const bad = check_fd_port_len(fd, port, 0);
    if (bad != 0) return bad;
    return socket.connect(fd, ip, @intCast(port), scope_id);
}

/// Plain connect to `ip:port`. 0 or -errno.
export fn fo_socket_connect4(fd: i32, ip: *const [4]u8, port: u32) i32 {
    const bad = check_fd_port_len(fd, port, 0);
    if (bad != 0) return bad;
    return socket.connect(fd, &addr.v4_mapped(ip.*), @intCast(port), 0);
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
    const bad = check_fd_port_len(fd, port, len);
    if (bad != 0) return bad;
    return socket.fastopen_connect(fd, ip, @intCast(port), scope_id, buf, len);
}

/// libowfat's socket_fastopen_connect4.
export fn fo_socket_fastopen_connect4(fd: i32, ip: *const [4]u8, port: u32, buf: [*]const u8, len: u32) i32 {
    const bad = check_fd_port_len(fd, port, len);
    if (bad != 0) return bad;
    return socket.fastopen_connect(fd, &addr.v4_mapped(ip.*), @intCast(port), 0, buf, len);
}

/// Lazy TFO connect: the SYN leaves with the first write. 0 or -errno.
export fn fo_socket_fastopen_lazy6(fd: i32, ip: *const [16]u8, port: u32, scope_id: u32) i32 {
    const bad = check_fd_port_len(fd, port, 0);
    if (bad != 0) return bad;
    return socket.fastopen_lazy(fd, ip, @intCast(port), scope_id);
}

/// 1 connected, 0 still connecting, -errno when the connect failed.
export fn fo_socket_connected(fd: i32) i32 {
    if (fd < 0) return -E.BADF;
    return socket.connected(fd);
}

/// Enables server-side TFO on `fd` with a queue of `queue_length` pending requests.
export fn fo_socket_fastopen(fd: i32, queue_length: u32) i32 {
    if (fd < 0) return -E.BADF;
    if (queue_length > std.math.maxInt(c_int)) return -E.INVAL;
    return sys.platform.fastopen_listen(fd, queue_length);
}

/// Lets `fd` send SYN data without a cookie (Linux TCP_FASTOPEN_NO_COOKIE).
export fn fo_socket_fastopen_no_cookie(fd: i32) i32 {
    if (fd < 0) return -E.BADF;
    return sys.platform.fastopen_no_cookie(fd);
}

/// listen(2). 0 or -errno.
export fn fo_socket_listen(fd: i32, backlog: u32) i32 {
    if (fd < 0) return -E.BADF;
    return socket.listen(fd, backlog);
}

/// Accepts a connection: new fd or -errno. The peer's address goes to `ip`
/// and `meta[0]` = port, `meta[1]` = scope id.
export fn fo_socket_accept6(fd: i32, ip: *[16]u8, meta: *[2]u32) i32 {
    if (fd < 0) return -E.BADF;
    var ep: addr.Endpoint = undefined;
    const client = socket.accept(fd, &ep);
    if (client >= 0) write_endpoint(&ep, ip, meta);
    return client;
}

/// Local address of `fd` into `ip`, `meta` (port, scope id). 0 or -errno.
export fn fo_socket_local6(fd: i32, ip: *[16]u8, meta: *[2]u32) i32 {
    return endpoint(fd, false, ip, meta);
}

/// Peer address of `fd` into `ip`, `meta` (port, scope id). 0 or -errno.
export fn fo_socket_remote6(fd: i32, ip: *[16]u8, meta: *[2]u32) i32 {
    return endpoint(fd, true, ip, meta);
}

fn endpoint(fd: i32, remote: bool, ip: *[16]u8, meta: *[2]u32) i32 {
    if (fd < 0) return -E.BADF;
    var ep: addr.Endpoint = undefined;
    const rc = socket.endpoint(fd, remote, &ep);
    if (rc == 0) write_endpoint(&ep, ip, meta);
    return rc;
}

fn write_endpoint(ep: *const addr.Endpoint, ip: *[16]u8, meta: *[2]u32) void {
    ip.* = ep.ip;
    meta.* = .{ ep.port, ep.scope_id };
}

/// send(2) without SIGPIPE: bytes sent or -errno.
export fn fo_socket_send(fd: i32, buf: [*]const u8, len: u32) i32 {
    const bad = check_fd_port_len(fd, 0, len);
    if (bad != 0) return bad;
    return socket.send(fd, buf, len);
}

/// recv(2): bytes read, 0 at end of stream, or -errno.
export fn fo_socket_recv(fd: i32, buf: [*]u8, len: u32) i32 {
    const bad = check_fd_port_len(fd, 0, len);
    if (bad != 0) return bad;
    return socket.recv(fd, buf, len);
}

/// Waits up to `timeout_ms` (-1: forever) for `events` (POLLIN 1, POLLOUT 4)
/// on `fd`: the events that occurred, 0 on timeout, or -errno.
export fn fo_socket_poll(fd: i32, events: u32, timeout_ms: i32) i32 {
    if (fd < 0) return -E.BADF;
    if (events > 0x7fff) return -E.INVAL;
    return socket.poll(fd, @intCast(events), timeout_ms);
}

/// shutdown(SHUT_WR). 0 or -errno.
export fn fo_socket_shutdown_write(fd: i32) i32 {
    if (fd < 0) return -E.BADF;
    return socket.shutdown_write(fd);
}

/// close(2). 0 or -errno.
export fn fo_socket_close(fd: i32) i32 {
    if (fd < 0) return -E.BADF;
    return socket.close(fd);
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
    if (port == 0 or port > 65535 or len > max_len or mode > 2) return -E.INVAL;
    if (family != 4 and family != 6) return -E.INVAL;
    var started: socket.Started = undefined;
    var stage: socket.Stage = .socket;
    const start_mode: socket.StartMode = @fromBackingInt(@intCast(mode));
    const fd = socket.open_connect(ip, @intCast(port), scope_id, family == 4, start_mode, buf, len, &started, &stage);
    if (fd < 0) {
        out[0] = @backingInt(stage);
        return fd;
    }
    out.* = .{ started.queued, @intFromBool(started.refused) };
    return fd;
}

/// The TFO outcome of a connection, packed as described in status.zig, or -errno.
export fn fo_fastopen_status(fd: i32) i32 {
    if (fd < 0) return -E.BADF;
    return sys.platform.fastopen_status(fd);
}

/// 1 when this process fell back to plain connect because the platform refused TFO.
export fn fo_fastopen_refused() i32 {
    return @intFromBool(socket.fastopen_refused());
}

/// Forgets an earlier refusal so the next connect tries TFO again.
export fn fo_fastopen_reset() i32 {
    socket.fastopen_reset();
    return 0;
}

test {
    _ = addr;
    _ = status;
    _ = sys.platform;
    _ = socket;
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
