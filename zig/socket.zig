//! Plain socket calls, platform-neutral: the socket constructor, bind,
//! connect, listen, accept, addresses, I/O. No TFO policy (see policy.zig).
//! Every function asserts a valid fd and returns its result or an `Error`.
const std = @import("std");
const assert = std.debug.assert;
const sys = @import("sys.zig");
const addr = @import("addr.zig");
const errno = @import("errno.zig");
const platform = sys.platform;
const Error = sys.Error;

/// How `open` sets up a new socket.
pub const Options = struct {
    /// Blocking I/O (else O_NONBLOCK).
    blocking: bool,
    /// IPV6_V6ONLY off, so the IPv6 socket also reaches IPv4 (v4-mapped) peers.
    dual_stack: bool,
};

/// The socket constructor: a TCP socket of `family` (AF_INET or AF_INET6),
/// close-on-exec and SIGPIPE-safe, set up as `options` say. No fd is left
/// open on failure.
pub fn open(family: c_int, options: Options) Error!i32 {
    assert(family == platform.AF_INET or family == platform.AF_INET6);
    assert(!options.dual_stack or family == platform.AF_INET6);
    // Where the platform has SOCK_CLOEXEC/SOCK_NONBLOCK, one syscall sets
    // both (saving three fcntl calls per connection); elsewhere they are 0.
    const flags: c_int = platform.SOCK_CLOEXEC | if (options.blocking) 0 else platform.SOCK_NONBLOCK;
    const fd = try sys.new_fd(sys.socket(family, sys.SOCK_STREAM | flags, sys.IPPROTO_TCP));
    errdefer _ = sys.close(fd);
    if (platform.SOCK_CLOEXEC == 0) try set_cloexec(fd);
    if (!options.blocking and platform.SOCK_NONBLOCK == 0) try set_nonblocking(fd);
    if (options.dual_stack) try sys.set_int_option(fd, sys.IPPROTO_IPV6, platform.IPV6_V6ONLY, 0);
    try platform.prepare_socket(fd);
    return fd;
}

fn set_cloexec(fd: i32) Error!void {
    assert(fd >= 0);
    try sys.check(sys.fcntl(fd, sys.F_SETFD, sys.FD_CLOEXEC));
}

fn set_nonblocking(fd: i32) Error!void {
    assert(fd >= 0);
    const flags = sys.fcntl(fd, sys.F_GETFL);
    if (flags == -1) return sys.fail();
    try sys.check(sys.fcntl(fd, sys.F_SETFL, flags | platform.O_NONBLOCK));
}

fn is_nonblocking(fd: i32) Error!bool {
    assert(fd >= 0);
    const flags = sys.fcntl(fd, sys.F_GETFL);
    if (flags == -1) return sys.fail();
    return flags & platform.O_NONBLOCK != 0;
}

/// The address family of socket `fd`.
fn family_of(fd: i32) Error!c_int {
    assert(fd >= 0);
    var storage: addr.Storage = undefined;
    var len: sys.socklen_t = @sizeOf(addr.Storage);
    try sys.check(sys.getsockname(fd, &storage, &len));
    if (platform.has_sa_len) return storage.bytes[1];
    return std.mem.readInt(u16, storage.bytes[0..2], @import("builtin").cpu.arch.endian());
}

/// error.PROTOTYPE unless `fd` is a stream socket. A UDP socket must never
/// take the TCP paths: sendto would send a datagram, and its refusal of the
/// TFO options would be taken for the platform refusing TFO, turning TFO off
/// for the whole process.
fn check_stream(fd: i32) Error!void {
    const kind = try sys.get_int_option(fd, platform.SOL_SOCKET, platform.SO_TYPE);
    if (kind != sys.SOCK_STREAM) return error.PROTOTYPE;
}

/// `[ip]:port` in the form stream socket `fd` needs (see `addr.target`).
pub fn target_for(fd: i32, ip: *const [16]u8, port: u16, scope_id: u32) Error!addr.Target {
    assert(fd >= 0);
    try check_stream(fd);
    return addr.target(try family_of(fd), ip, port, scope_id);
}

/// bind(2) to `[ip]:port`.
pub fn bind(fd: i32, ip: *const [16]u8, port: u16, scope_id: u32) Error!void {
    const target = try target_for(fd, ip, port, scope_id);
    try sys.check(sys.bind(fd, target.ptr(), target.len()));
}

/// connect(2) to `[ip]:port`; error.INPROGRESS on a non-blocking socket.
pub fn connect(fd: i32, ip: *const [16]u8, port: u16, scope_id: u32) Error!void {
    const target = try target_for(fd, ip, port, scope_id);
    try connect_to(fd, &target);
}

/// connect(2) to an address already in the socket's form.
pub fn connect_to(fd: i32, target: *const addr.Target) Error!void {
    assert(fd >= 0);
    try sys.check(sys.connect(fd, target.ptr(), target.len()));
}

/// Sends `buf[0..len]` until all is sent or the socket takes no more for now:
/// the bytes sent (> 0 unless `len` is 0). error.AGAIN only when nothing was sent.
pub fn send_all(fd: i32, buf: [*]const u8, len: u32) Error!u32 {
    assert(fd >= 0);
    assert(len <= std.math.maxInt(i32));
    var sent: u32 = 0;
    while (sent < len) {
        const n = sys.send(fd, buf + sent, len - sent, platform.MSG_NOSIGNAL);
        if (n < 0) {
            const err = sys.fail();
            if (err == error.INTR) continue;
            if (sent > 0 and err == error.AGAIN) break;
            return err;
        }
        sent += @intCast(n);
    }
    assert(sent <= len);
    return sent;
}

/// True when `fd` has a peer (connected, or past the handshake).
pub fn has_peer(fd: i32) bool {
    assert(fd >= 0);
    var storage: addr.Storage = undefined;
    var len: sys.socklen_t = @sizeOf(addr.Storage);
    return sys.getpeername(fd, &storage, &len) == 0;
}

/// The outcome of a non-blocking connect: true connected, false still in
/// progress, or the error it failed with.
pub fn connected(fd: i32) Error!bool {
    assert(fd >= 0);
    const pending = try sys.get_int_option(fd, platform.SOL_SOCKET, platform.SO_ERROR);
    if (pending != 0) return errno.from_number(pending);
    var storage: addr.Storage = undefined;
    var len: sys.socklen_t = @sizeOf(addr.Storage);
    if (sys.getpeername(fd, &storage, &len) == 0) return true;
    const err = sys.fail();
    if (err == error.NOTCONN) return false;
    return err;
}

/// listen(2) with `backlog` clamped to the C int range.
pub fn listen(fd: i32, backlog: u32) Error!void {
    assert(fd >= 0);
    try sys.check(sys.listen(fd, @intCast(@min(backlog, std.math.maxInt(c_int)))));
}

/// A connection `accept` took: its fd and its peer.
pub const Accepted = struct {
    fd: i32,
    peer: addr.Endpoint,
};

/// accept(2): the new fd (close-on-exec, SIGPIPE-safe, non-blocking when the
/// listener is) and its peer (all zero for a family other than IPv4/IPv6).
pub fn accept(fd: i32) Error!Accepted {
    assert(fd >= 0);
    const listener_nonblocking = try is_nonblocking(fd);
    var storage: addr.Storage = undefined;
    var len: sys.socklen_t = @sizeOf(addr.Storage);
    const client = try sys.new_fd(sys.accept(fd, &storage, &len));
    errdefer _ = sys.close(client);
    try set_cloexec(client);
    if (listener_nonblocking) try set_nonblocking(client);
    try platform.prepare_socket(client);
    const peer = addr.decode(&storage) orelse addr.Endpoint{ .ip = @splat(0), .port = 0, .scope_id = 0 };
    return .{ .fd = client, .peer = peer };
}

/// getsockname (local) or getpeername (remote); error.AFNOSUPPORT for a
/// family other than IPv4/IPv6.
pub fn endpoint(fd: i32, remote: bool) Error!addr.Endpoint {
    assert(fd >= 0);
    var storage: addr.Storage = undefined;
    var len: sys.socklen_t = @sizeOf(addr.Storage);
    const rc = if (remote) sys.getpeername(fd, &storage, &len) else sys.getsockname(fd, &storage, &len);
    try sys.check(rc);
    return addr.decode(&storage) orelse error.AFNOSUPPORT;
}

/// send(2) without SIGPIPE: the bytes sent.
pub fn send(fd: i32, buf: [*]const u8, len: u32) Error!u32 {
    assert(fd >= 0);
    return sys.byte_count(sys.send(fd, buf, len, platform.MSG_NOSIGNAL));
}

/// recv(2): the bytes read (0 at end of stream).
pub fn recv(fd: i32, buf: [*]u8, len: u32) Error!u32 {
    assert(fd >= 0);
    return sys.byte_count(sys.recv(fd, buf, len, 0));
}

/// The revents bit poll(2) sets for an fd that is not open (same value on
/// Linux, macOS and FreeBSD).
const POLLNVAL: i16 = 0x20;

/// poll(2) on one fd: the returned events (0 on timeout); error.BADF when
/// `fd` is not open (poll itself reports that as POLLNVAL).
pub fn poll(fd: i32, events: i16, timeout_ms: i32) Error!u16 {
    assert(fd >= 0);
    assert(events >= 0);
    var fds = [_]sys.PollFd{.{ .fd = fd, .events = events, .revents = 0 }};
    const n = sys.poll(&fds, 1, timeout_ms);
    if (n == -1) return sys.fail();
    if (n == 0) return 0;
    if (fds[0].revents & POLLNVAL != 0) return error.BADF;
    return @bitCast(fds[0].revents);
}

/// shutdown(SHUT_WR): end of stream for the peer.
pub fn shutdown_write(fd: i32) Error!void {
    assert(fd >= 0);
    try sys.check(sys.shutdown(fd, sys.SHUT_WR));
}

/// close(2). Not retried on EINTR (the fd is gone either way).
pub fn close(fd: i32) Error!void {
    assert(fd >= 0);
    try sys.check(sys.close(fd));
}
