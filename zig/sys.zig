//! Portable libc declarations used by every platform branch.
//!
//! Declared here rather than taken from `std.c`/`std.posix`, whose shapes churn
//! between Zig versions. Platform constants live in the platform files.
const std = @import("std");
const builtin = @import("builtin");

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

/// The calling thread's errno, as a positive number.
pub fn errno() i32 {
    const value: i32 = platform.errno_location().*;
    std.debug.assert(value >= 0);
    return value;
}

/// `-errno`, the library's failure result. Never 0: a failing call that left
/// errno unset is reported as EIO rather than as success.
pub fn fail() i32 {
    const value = errno();
    const result: i32 = if (value == 0) -platform.E.IO else -value;
    std.debug.assert(result < 0);
    return result;
}

/// Returns 0 when a libc call that returns -1 on failure succeeded, else `-errno`.
pub fn check(rc: c_int) i32 {
    if (rc == -1) return fail();
    std.debug.assert(rc >= 0);
    return 0;
}

/// Sets an integer socket option; 0 or `-errno`.
pub fn set_int_option(fd: i32, level: c_int, name: c_int, value: c_int) i32 {
    std.debug.assert(fd >= 0);
    return check(setsockopt(fd, level, name, &value, @sizeOf(c_int)));
}

/// Reads an integer socket option into `value`; 0 or `-errno`.
pub fn get_int_option(fd: i32, level: c_int, name: c_int, value: *c_int) i32 {
    std.debug.assert(fd >= 0);
    var len: socklen_t = @sizeOf(c_int);
    return check(getsockopt(fd, level, name, value, &len));
}

/// Clamps a byte count returned by send/recv into the i32 result space.
pub fn byte_count(n: isize) i32 {
    if (n < 0) return fail();
    std.debug.assert(n <= std.math.maxInt(i32));
    return @intCast(n);
}
