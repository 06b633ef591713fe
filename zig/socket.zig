//! Platform-neutral socket operations: creation, bind, connect, listen,
//! accept, addresses, I/O and the TFO connect with its fallback.
//! Every function returns a non-negative result or `-errno`.
const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const addr = @import("addr.zig");
const platform = sys.platform;
const E = platform.E;

/// Set once the platform refused the TFO path (for example TFO disabled on
/// the client): later calls go straight to connect + send.
var tfo_refused = std.atomic.Value(bool).init(false);

/// True when this process fell back to plain connect because TFO was refused.
pub fn fastopen_refused() bool {
    return tfo_refused.load(.acquire);
}

/// Forgets a refusal, so the next call tries TFO again.
pub fn fastopen_reset() void {
    tfo_refused.store(false, .release);
}

/// A TCP socket of `family`, close-on-exec, SIGPIPE-safe, non-blocking unless
/// `blocking`; IPv6 sockets also accept v4-mapped peers. fd or `-errno`.
pub fn create(family: c_int, blocking: bool) i32 {
    // Where the platform has SOCK_CLOEXEC/SOCK_NONBLOCK, one syscall sets
    // both (saving three fcntl calls per connection); elsewhere they are 0.
    const flags: c_int = platform.SOCK_CLOEXEC | if (blocking) 0 else platform.SOCK_NONBLOCK;
    const fd = sys.socket(family, sys.SOCK_STREAM | flags, sys.IPPROTO_TCP);
    if (fd == -1) return sys.fail();
    assert(fd >= 0);
    const rc = configure(fd, family, blocking);
    if (rc < 0) {
        _ = sys.close(fd);
        return rc;
    }
    return fd;
}

fn configure(fd: i32, family: c_int, blocking: bool) i32 {
    var rc: i32 = 0;
    if (platform.SOCK_CLOEXEC == 0) {
        rc = sys.check(sys.fcntl(fd, sys.F_SETFD, sys.FD_CLOEXEC));
        if (rc < 0) return rc;
    }
    if (!blocking and platform.SOCK_NONBLOCK == 0) {
        rc = set_nonblocking(fd);
        if (rc < 0) return rc;
    }
    if (family == platform.AF_INET6) {
        rc = sys.set_int_option(fd, sys.IPPROTO_IPV6, platform.IPV6_V6ONLY, 0);
        if (rc < 0) return rc;
    }
    return platform.prepare_socket(fd);
}

fn set_nonblocking(fd: i32) i32 {
    const flags = sys.fcntl(fd, sys.F_GETFL);
    if (flags == -1) return sys.fail();
    return sys.check(sys.fcntl(fd, sys.F_SETFL, flags | platform.O_NONBLOCK));
}

fn is_nonblocking(fd: i32) i32 {
    const flags = sys.fcntl(fd, sys.F_GETFL);
    if (flags == -1) return sys.fail();
    return @intFromBool(flags & platform.O_NONBLOCK != 0);
}

/// The address family of socket `fd`, or `-errno`.
fn family_of(fd: i32) i32 {
    var storage: addr.Storage = undefined;
    var len: sys.socklen_t = @sizeOf(addr.Storage);
    if (sys.getsockname(fd, &storage, &len) == -1) return sys.fail();
    if (platform.has_sa_len) return storage.bytes[1];
    return std.mem.readInt(u16, storage.bytes[0..2], @import("builtin").cpu.arch.endian());
}

/// 0 when `fd` is a stream socket, else `-errno` (-EPROTOTYPE for a datagram
/// socket). A UDP socket must never take the TCP paths: sendto would send a
/// datagram, and its refusal of the TFO options would be taken for the
/// platform refusing TFO, turning TFO off for the whole process.
fn is_stream(fd: i32) i32 {
    var kind: c_int = 0;
    const rc = sys.get_int_option(fd, platform.SOL_SOCKET, platform.SO_TYPE, &kind);
    if (rc < 0) return rc;
    return if (kind == sys.SOCK_STREAM) 0 else -E.PROTOTYPE;
}

/// A destination or local address in the form the socket `fd` needs: an
/// IPv4 address on an IPv4 socket takes a `sockaddr_in`, anything on an IPv6
/// socket a `sockaddr_in6` (IPv4 as v4-mapped).
pub const Target = union(enum) {
    v6: addr.SockAddr6,
    v4: addr.SockAddr4,

    pub fn for_socket(fd: i32, ip: *const [16]u8, port: u16, scope_id: u32) union(enum) { ok: Target, err: i32 } {
        const stream = is_stream(fd);
        if (stream < 0) return .{ .err = stream };
        const family = family_of(fd);
        if (family < 0) return .{ .err = family };
        if (family == platform.AF_INET6) return .{ .ok = .{ .v6 = addr.ip6(ip, port, scope_id) } };
        if (family != platform.AF_INET) return .{ .err = -E.AFNOSUPPORT };
        if (!addr.is_v4_mapped(ip)) return .{ .err = -E.AFNOSUPPORT };
        return .{ .ok = .{ .v4 = addr.ip4(ip[12..16], port) } };
    }

    pub fn ptr(self: *const Target) *const anyopaque {
        return switch (self.*) {
            .v6 => |*sa| sa,
            .v4 => |*sa| sa,
        };
    }

    pub fn len(self: *const Target) u32 {
        return switch (self.*) {
            .v6 => @sizeOf(addr.SockAddr6),
            .v4 => @sizeOf(addr.SockAddr4),
        };
    }
};

/// bind(2) to `[ip]:port`. 0 or `-errno`.
pub fn bind(fd: i32, ip: *const [16]u8, port: u16, scope_id: u32) i32 {
    assert(fd >= 0);
    const target = switch (Target.for_socket(fd, ip, port, scope_id)) {
        .ok => |t| t,
        .err => |e| return e,
    };
    return sys.check(sys.bind(fd, target.ptr(), target.len()));
}

/// connect(2) to `[ip]:port`. 0, or `-errno` (-EINPROGRESS on a non-blocking socket).
pub fn connect(fd: i32, ip: *const [16]u8, port: u16, scope_id: u32) i32 {
    assert(fd >= 0);
    const target = switch (Target.for_socket(fd, ip, port, scope_id)) {
        .ok => |t| t,
        .err => |e| return e,
    };
    return sys.check(sys.connect(fd, target.ptr(), target.len()));
}

/// Connects to `[ip]:port` with `buf[0..len]` in the SYN. Bytes sent or
/// queued (>= 0), or `-errno`: -EINPROGRESS on a non-blocking socket when
/// nothing was queued (no cookie yet); then the whole buffer is still unsent.
pub fn fastopen_connect(fd: i32, ip: *const [16]u8, port: u16, scope_id: u32, buf: [*]const u8, len: u32) i32 {
    assert(fd >= 0);
    assert(len <= std.math.maxInt(i32));
    const target = switch (Target.for_socket(fd, ip, port, scope_id)) {
        .ok => |t| t,
        .err => |e| return e,
    };
    return fastopen_to(fd, &target, buf, len);
}

/// `fastopen_connect` to an address already in the socket's form.
fn fastopen_to(fd: i32, target: *const Target, buf: [*]const u8, len: u32) i32 {
    assert(fd >= 0);
    if (!fastopen_refused()) {
        const rc = platform.fastopen_connect(fd, target.ptr(), target.len(), buf, len);
        if (!is_refusal(rc)) return rc;
        const past_connecting = has_peer(fd);
        const fallback = connect_then_send(fd, target, buf, len);
        if (!past_connecting and (fallback >= 0 or fallback == -E.INPROGRESS)) tfo_refused.store(true, .release);
        return fallback;
    }
    return connect_then_send(fd, target, buf, len);
}

/// True when `fd` already has a peer. A TFO step that failed on such a socket
/// failed because the socket is past connecting (Linux: TCP_FASTOPEN_CONNECT
/// on an established socket is EINVAL), not because the platform refuses TFO:
/// that must not turn TFO off for the rest of the process.
fn has_peer(fd: i32) bool {
    var storage: addr.Storage = undefined;
    var len: sys.socklen_t = @sizeOf(addr.Storage);
    return sys.getpeername(fd, &storage, &len) == 0;
}

/// Linux refuses TFO only with EOPNOTSUPP (client bit off in
/// net.ipv4.tcp_fastopen) or ENOPROTOOPT (no TCP_FASTOPEN_CONNECT, before
/// 4.11). Its EINVAL and EPIPE come from the socket (already connected, the
/// pending error of an earlier connection that was reset), never from TFO.
const linux = std.mem.eql(u8, platform.name, "linux");

/// Errors by which a platform refuses the TFO path itself (rather than the connection).
fn is_refusal(rc: i32) bool {
    if (rc == -E.OPNOTSUPP or rc == -E.NOPROTOOPT) return true;
    return !linux and (rc == -E.INVAL or rc == -E.PIPE);
}

/// The plain path with the same contract: connect, then send what the socket takes now.
fn connect_then_send(fd: i32, target: *const Target, buf: [*]const u8, len: u32) i32 {
    const rc = sys.check(sys.connect(fd, target.ptr(), target.len()));
    if (rc < 0) return rc;
    if (len == 0) return 0;
    return send_all(fd, buf, len);
}

fn send_all(fd: i32, buf: [*]const u8, len: u32) i32 {
    var sent: u32 = 0;
    while (sent < len) {
        const n = sys.send(fd, buf + sent, len - sent, platform.MSG_NOSIGNAL);
        if (n < 0) {
            const e = sys.errno();
            if (e == E.INTR) continue;
            if (sent > 0 and e == E.AGAIN) break;
            return -e;
        }
        sent += @intCast(n);
    }
    assert(sent <= len);
    return @intCast(sent);
}

/// Lazy TFO: connect now, the SYN leaves with the first write (where the
/// platform has a lazy mode; elsewhere a plain connect).
pub fn fastopen_lazy(fd: i32, ip: *const [16]u8, port: u16, scope_id: u32) i32 {
    assert(fd >= 0);
    const target = switch (Target.for_socket(fd, ip, port, scope_id)) {
        .ok => |t| t,
        .err => |e| return e,
    };
    return lazy_to(fd, &target);
}

/// `fastopen_lazy` to an address already in the socket's form.
fn lazy_to(fd: i32, target: *const Target) i32 {
    assert(fd >= 0);
    if (!fastopen_refused()) {
        const rc = platform.fastopen_lazy(fd, target.ptr(), target.len());
        if (!is_refusal(rc)) return rc;
        const past_connecting = has_peer(fd);
        const fallback = sys.check(sys.connect(fd, target.ptr(), target.len()));
        if (!past_connecting and (fallback == 0 or fallback == -E.INPROGRESS)) tfo_refused.store(true, .release);
        return fallback;
    }
    return sys.check(sys.connect(fd, target.ptr(), target.len()));
}

/// How `open_connect` starts the connection.
pub const StartMode = enum(u32) { plain = 0, syn_data = 1, lazy = 2 };

/// What `open_connect` reports besides the fd.
pub const Started = struct {
    /// The connect call's result: bytes queued (>= 0), or -EINPROGRESS.
    queued: i32,
    /// The platform refused TFO and the plain path was taken.
    refused: bool,
};

/// The stage an `open_connect` failure happened in.
pub const Stage = enum(i32) { socket = 0, connect = 1 };

/// One call for a whole non-blocking connect start: a new socket (AF_INET
/// when `v4`, which needs a v4-mapped `ip`; else AF_INET6, dual-stack only
/// for a v4-mapped `ip`), so no family or type checks are needed, then the
/// connect in `mode` (`buf[0..len]` in the SYN for `syn_data`). The fd
/// (>= 0) with `started` filled; or `-errno` with `stage` set and no fd left
/// open. -EINPROGRESS is not a failure: it is `started.queued`.
pub fn open_connect(
    ip: *const [16]u8,
    port: u16,
    scope_id: u32,
    v4: bool,
    mode: StartMode,
    buf: [*]const u8,
    len: u32,
    started: *Started,
    stage: *Stage,
) i32 {
    assert(len <= std.math.maxInt(i32));
    const mapped = addr.is_v4_mapped(ip);
    stage.* = .socket;
    if (v4 and !mapped) return -E.AFNOSUPPORT;
    const fd = create_nonblocking(if (v4) platform.AF_INET else platform.AF_INET6);
    if (fd < 0) return fd;
    if (!v4 and mapped) {
        const rc = sys.set_int_option(fd, sys.IPPROTO_IPV6, platform.IPV6_V6ONLY, 0);
        if (rc < 0) {
            _ = sys.close(fd);
            return rc;
        }
    }
    const target: Target = if (v4) .{ .v4 = addr.ip4(ip[12..16], port) } else .{ .v6 = addr.ip6(ip, port, scope_id) };
    const rc = switch (mode) {
        .plain => sys.check(sys.connect(fd, target.ptr(), target.len())),
        .syn_data => fastopen_to(fd, &target, buf, len),
        .lazy => lazy_to(fd, &target),
    };
    if (rc < 0 and rc != -E.INPROGRESS) {
        stage.* = .connect;
        _ = sys.close(fd);
        return rc;
    }
    started.* = .{ .queued = rc, .refused = mode != .plain and fastopen_refused() };
    return fd;
}

/// A non-blocking, close-on-exec, SIGPIPE-safe TCP socket for a connect to a
/// known address (no IPV6_V6ONLY change: the socket's family fits the peer).
fn create_nonblocking(family: c_int) i32 {
    const flags: c_int = platform.SOCK_CLOEXEC | platform.SOCK_NONBLOCK;
    const fd = sys.socket(family, sys.SOCK_STREAM | flags, sys.IPPROTO_TCP);
    if (fd == -1) return sys.fail();
    assert(fd >= 0);
    var rc: i32 = 0;
    if (platform.SOCK_CLOEXEC == 0) rc = sys.check(sys.fcntl(fd, sys.F_SETFD, sys.FD_CLOEXEC));
    if (rc == 0 and platform.SOCK_NONBLOCK == 0) rc = set_nonblocking(fd);
    if (rc == 0) rc = platform.prepare_socket(fd);
    if (rc < 0) {
        _ = sys.close(fd);
        return rc;
    }
    return fd;
}

/// The outcome of a non-blocking connect: 1 connected, 0 still in progress,
/// `-errno` when it failed.
pub fn connected(fd: i32) i32 {
    assert(fd >= 0);
    var pending: c_int = 0;
    const rc = sys.get_int_option(fd, platform.SOL_SOCKET, platform.SO_ERROR, &pending);
    if (rc < 0) return rc;
    if (pending != 0) return -pending;
    var storage: addr.Storage = undefined;
    var len: sys.socklen_t = @sizeOf(addr.Storage);
    if (sys.getpeername(fd, &storage, &len) == 0) return 1;
    const e = sys.errno();
    if (e == E.NOTCONN) return 0;
    return -e;
}

/// listen(2).
pub fn listen(fd: i32, backlog: u32) i32 {
    assert(fd >= 0);
    return sys.check(sys.listen(fd, @intCast(@min(backlog, std.math.maxInt(c_int)))));
}

/// accept(2): the new fd (close-on-exec, SIGPIPE-safe, non-blocking when the
/// listener is) or `-errno`; the peer goes to `out`.
pub fn accept(fd: i32, out: *addr.Endpoint) i32 {
    assert(fd >= 0);
    const listener_nonblocking = is_nonblocking(fd);
    if (listener_nonblocking < 0) return listener_nonblocking;
    var storage: addr.Storage = undefined;
    var len: sys.socklen_t = @sizeOf(addr.Storage);
    const client = sys.accept(fd, &storage, &len);
    if (client == -1) return sys.fail();
    assert(client >= 0);
    var rc = sys.check(sys.fcntl(client, sys.F_SETFD, sys.FD_CLOEXEC));
    if (rc == 0 and listener_nonblocking == 1) rc = set_nonblocking(client);
    if (rc == 0) rc = platform.prepare_socket(client);
    if (rc < 0) {
        _ = sys.close(client);
        return rc;
    }
    out.* = addr.decode(&storage) orelse .{ .ip = @splat(0), .port = 0, .scope_id = 0 };
    return client;
}

/// getsockname (local) or getpeername (remote) into `out`; 0 or `-errno`.
pub fn endpoint(fd: i32, remote: bool, out: *addr.Endpoint) i32 {
    assert(fd >= 0);
    var storage: addr.Storage = undefined;
    var len: sys.socklen_t = @sizeOf(addr.Storage);
    const rc = if (remote) sys.getpeername(fd, &storage, &len) else sys.getsockname(fd, &storage, &len);
    if (rc == -1) return sys.fail();
    out.* = addr.decode(&storage) orelse return -E.AFNOSUPPORT;
    return 0;
}

/// send(2) without SIGPIPE: bytes sent or `-errno`.
pub fn send(fd: i32, buf: [*]const u8, len: u32) i32 {
    assert(fd >= 0);
    return sys.byte_count(sys.send(fd, buf, len, platform.MSG_NOSIGNAL));
}

/// recv(2): bytes read (0 at end of stream) or `-errno`.
pub fn recv(fd: i32, buf: [*]u8, len: u32) i32 {
    assert(fd >= 0);
    return sys.byte_count(sys.recv(fd, buf, len, 0));
}

/// The revents bit poll(2) sets for an fd that is not open (same value on
/// Linux, macOS and FreeBSD).
const POLLNVAL: i16 = 0x20;

/// poll(2) on one fd: the returned events (0 on timeout) or `-errno`;
/// -EBADF when `fd` is not open (poll itself reports that as POLLNVAL).
pub fn poll(fd: i32, events: i16, timeout_ms: i32) i32 {
    assert(fd >= 0);
    var fds = [_]sys.PollFd{.{ .fd = fd, .events = events, .revents = 0 }};
    const n = sys.poll(&fds, 1, timeout_ms);
    if (n == -1) return sys.fail();
    if (n == 0) return 0;
    if (fds[0].revents & POLLNVAL != 0) return -E.BADF;
    return @as(u16, @bitCast(fds[0].revents));
}

/// shutdown(SHUT_WR): end of stream for the peer; 0 or `-errno`.
pub fn shutdown_write(fd: i32) i32 {
    assert(fd >= 0);
    return sys.check(sys.shutdown(fd, sys.SHUT_WR));
}

/// close(2); 0 or `-errno`. Not retried on EINTR (the fd is gone either way).
pub fn close(fd: i32) i32 {
    assert(fd >= 0);
    return sys.check(sys.close(fd));
}
