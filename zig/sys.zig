//! Portable libc declarations used by every platform branch.
//!
//! Declared here rather than taken from `std.c`/`std.posix`, whose shapes churn
//! between Zig versions. Platform constants live in the platform files.
//! The libc edge: a failed call becomes an `Error` here (`fail`, `check`),
//! and nowhere else.
const std = @import("std");
const assert = std.debug.assert;
const builtin = @import("builtin");
const errno = @import("errno.zig");
const status = @import("status.zig");

pub const Error = errno.Error;

/// The branch for the platform being compiled: constants, errno, sockaddr
/// layout and the TCP Fast Open syscalls.
pub const platform = switch (builtin.os.tag) {
    .linux => @import("linux.zig"),
    .macos, .ios, .tvos, .watchos, .visionos => @import("darwin.zig"),
    .freebsd => @import("freebsd.zig"),
    else => @compileError("fastopen supports Linux, macOS and FreeBSD"),
};

pub const socklen_t = u32;

pub extern "c" fn socket(domain: c_int, kind: c_int, protocol: c_int) c_int;
pub extern "c" fn bind(fd: c_int, addr: *const anyopaque, len: socklen_t) c_int;
pub extern "c" fn connect(fd: c_int, addr: *const anyopaque, len: socklen_t) c_int;
pub extern "c" fn listen(fd: c_int, backlog: c_int) c_int;
pub extern "c" fn accept(fd: c_int, addr: ?*anyopaque, len: ?*socklen_t) c_int;
pub extern "c" fn getsockname(fd: c_int, addr: *anyopaque, len: *socklen_t) c_int;
pub extern "c" fn getpeername(fd: c_int, addr: *anyopaque, len: *socklen_t) c_int;
pub extern "c" fn setsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    value: *const anyopaque,
    len: socklen_t,
) c_int;
pub extern "c" fn getsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    value: *anyopaque,
    len: *socklen_t,
) c_int;
pub extern "c" fn close(fd: c_int) c_int;
pub extern "c" fn fcntl(fd: c_int, cmd: c_int, ...) c_int;
pub extern "c" fn send(fd: c_int, buf: [*]const u8, len: usize, flags: c_int) isize;
pub extern "c" fn recv(fd: c_int, buf: [*]u8, len: usize, flags: c_int) isize;
pub extern "c" fn sendto(
    fd: c_int,
    buf: [*]const u8,
    len: usize,
    flags: c_int,
    addr: ?*const anyopaque,
    addr_len: socklen_t,
) isize;
pub extern "c" fn shutdown(fd: c_int, how: c_int) c_int;

/// `struct timespec`: time_t and long are both the word size on the supported platforms.
pub const Timespec = extern struct {
    sec: isize,
    nsec: c_long,
};
pub extern "c" fn clock_gettime(clock: c_int, ts: *Timespec) c_int;

/// Milliseconds on the monotonic clock (never goes back; its zero is arbitrary).
pub fn monotonic_ms() u64 {
    var ts: Timespec = .{ .sec = 0, .nsec = 0 };
    const rc = clock_gettime(platform.CLOCK_MONOTONIC, &ts);
    assert(rc == 0);
    assert(ts.sec >= 0);
    assert(ts.nsec >= 0 and ts.nsec < 1_000_000_000);
    const sec: u64 = @intCast(ts.sec);
    const nsec: u64 = @intCast(ts.nsec);
    return sec * 1000 + nsec / 1_000_000;
}

/// `struct pollfd`, the same on every supported platform.
pub const PollFd = extern struct {
    fd: c_int,
    events: i16,
    revents: i16,
};
pub extern "c" fn poll(fds: [*]PollFd, nfds: c_uint, timeout: c_int) c_int;

pub const F_GETFD: c_int = 1;
pub const F_SETFD: c_int = 2;
pub const F_GETFL: c_int = 3;
pub const F_SETFL: c_int = 4;
pub const FD_CLOEXEC: c_int = 1;
pub const SOCK_STREAM: c_int = 1;
pub const IPPROTO_TCP: c_int = 6;
pub const IPPROTO_IPV6: c_int = 41;
pub const SHUT_WR: c_int = 1;
pub const POLLIN: i16 = 0x1;
pub const POLLOUT: i16 = 0x4;

/// The calling thread's errno as an `Error`: the one place errno is read.
/// A failed call that left errno 0 reads as EIO rather than as success.
pub fn fail() Error {
    const value: i32 = platform.errno_location().*;
    assert(value >= 0);
    return errno.from_number(value);
}

/// Nothing when a libc call that returns -1 on failure succeeded, else its error.
pub fn check(rc: c_int) Error!void {
    if (rc == -1) return fail();
    assert(rc >= 0);
}

/// The fd a libc call (socket, accept) returned, or its error.
pub fn new_fd(rc: c_int) Error!i32 {
    if (rc == -1) return fail();
    assert(rc >= 0);
    return rc;
}

/// Sets an integer socket option.
pub fn set_int_option(fd: i32, level: c_int, name: c_int, value: c_int) Error!void {
    assert(fd >= 0);
    return check(setsockopt(fd, level, name, &value, @sizeOf(c_int)));
}

/// Reads an integer socket option.
pub fn get_int_option(fd: i32, level: c_int, name: c_int) Error!c_int {
    assert(fd >= 0);
    var value: c_int = 0;
    var len: socklen_t = @sizeOf(c_int);
    try check(getsockopt(fd, level, name, &value, &len));
    return value;
}

/// The byte count send/recv/sendto returned (it fits the i32 result), or its error.
pub fn byte_count(n: isize) Error!u32 {
    if (n < 0) return fail();
    assert(n <= std.math.maxInt(i32));
    return @intCast(n);
}

// The surface every platform file (linux.zig, darwin.zig, freebsd.zig) provides.
comptime {
    const int_constants = .{
        "AF_INET",      "AF_INET6",      "SOL_SOCKET", "SO_ERROR",     "SO_TYPE",         "IPV6_V6ONLY",
        "SOCK_CLOEXEC", "SOCK_NONBLOCK", "O_NONBLOCK", "MSG_NOSIGNAL", "CLOCK_MONOTONIC",
    };
    for (int_constants) |constant| assert(@TypeOf(@field(platform, constant)) == c_int);
    assert(@TypeOf(platform.has_sa_len) == bool);
    assert(@TypeOf(platform.errno_location) == fn () *c_int);
    assert(@TypeOf(platform.errno_fixes) == [platform.errno_fixes.len]errno.Fix);
    assert(@TypeOf(platform.prepare_socket) == fn (i32) Error!void);
    assert(@TypeOf(platform.fastopen_connect) ==
        fn (i32, *const anyopaque, u32, [*]const u8, u32) Error!u32);
    assert(@TypeOf(platform.fastopen_lazy) == fn (i32, *const anyopaque, u32) Error!void);
    assert(@TypeOf(platform.fastopen_listen) == fn (i32, u32) Error!void);
    assert(@TypeOf(platform.sent_counts) == fn (i32) Error![2]u32);
    assert(@TypeOf(platform.fastopen_no_cookie) == fn (i32) Error!void);
    assert(@TypeOf(platform.fastopen_key) == fn (i32, [*]const u8, u32) Error!void);
    assert(@TypeOf(platform.fastopen_key_get) == fn (i32, *[32]u8) Error!u32);
    assert(@TypeOf(platform.fastopen_status) == fn (i32) Error!status.Status);
}
